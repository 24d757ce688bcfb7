"""Receipt and problems for staff: the panel on the order page, Sales' phone
confirmation and resolution forms, the photos (Sales only) and the /feedback/ page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import CaseStatus, Receipt, ReceiptMethod
from feedback.photos import check_photo
from orders.models import Status
from orders.roles import Role
from tests.factories import make_user

from .conftest import photo

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ALL_ROLES = [Role.SALES, Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE, Role.MANAGER]
NOT_SALES = [Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE]


@pytest.fixture
def case(delivered):
    case, _ = services.report_problem(
        delivered.pk,
        kind="damaged",
        details="茶壶盖子裂了",
        photos=[check_photo(photo(color=(1, 2, 3)))],
        key="c" * 32,
    )
    return case


def login(client, users, role):
    client.force_login(users[role])
    return client


# ---------------------------------------------------------------------------
# The panel on the order page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_the_receipt_state_and_cases(client, users, case, role):
    html = login(client, users, role).get(case.order.get_absolute_url(), **EN).text
    assert 'id="receipt-staff-panel"' in html
    assert 'id="receipt-state"' in html
    assert "Waiting for the customer" in html
    assert f'id="case-{case.pk}"' in html
    assert "茶壶盖子裂了" in html
    sales = role in (Role.SALES, Role.MANAGER)
    photo_pk = case.photos.get().pk
    assert (f'id="case-photo-{photo_pk}"' in html) is sales
    assert (f'id="resolve-case-{case.pk}"' in html) is sales
    assert ('id="phone-receipt-form"' in html) is sales
    if not sales:
        assert "1 photo (Sales only)" in html


@pytest.mark.django_db
def test_the_panel_is_not_on_orders_before_delivery(client, users, order_in):
    order = order_in(Status.SHIPPED)
    html = login(client, users, Role.SALES).get(order.get_absolute_url()).text
    assert 'id="receipt-staff-panel"' not in html


@pytest.mark.django_db
def test_the_panel_says_when_receipt_counts_as_confirmed(client, users, delivered):
    html = login(client, users, Role.SALES).get(delivered.get_absolute_url(), **EN).text
    due = timezone.localtime(delivered.step_started_at + timedelta(hours=72))
    assert f"counts as received on {due:%Y-%m-%d %H:%M} without an answer" in html


# ---------------------------------------------------------------------------
# Receipt confirmed by phone


def phone_url(order):
    return reverse("feedback:phone_receipt", args=[order.number])


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SALES, Role.MANAGER])
def test_sales_records_receipt_confirmed_by_phone(client, users, delivered, role):
    response = login(client, users, role).post(phone_url(delivered), {"note": "王先生确认"}, **EN)
    assert response.status_code == 302
    assert response["Location"] == delivered.get_absolute_url() + "#receipt-staff-panel"
    receipt = Receipt.objects.get(order=delivered)
    assert (receipt.how, receipt.by, receipt.note) == ("phone", users[role], "王先生确认")
    html = client.get(delivered.get_absolute_url(), **EN).text
    assert "Receipt confirmed" in html
    assert 'id="phone-receipt-form"' not in html
    assert "Receipt confirmed by phone" in html  # the timeline


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SALES)
def test_other_roles_may_not_record_receipt(client, users, delivered, role):
    assert login(client, users, role).post(phone_url(delivered)).status_code == 403
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_recording_needs_a_login_and_a_post(client, users, delivered):
    response = client.post(phone_url(delivered))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert login(client, users, Role.SALES).get(phone_url(delivered)).status_code == 405
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_recording_on_an_order_not_delivered_is_409(client, users, order_in):
    shipped = order_in(Status.SHIPPED)
    response = login(client, users, Role.SALES).post(phone_url(shipped), **EN)
    assert response.status_code == 409
    assert "receipt can only be confirmed once delivered" in response.text
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_an_overlong_note_is_400(client, users, delivered):
    response = login(client, users, Role.SALES).post(phone_url(delivered), {"note": "x" * 2001})
    assert response.status_code == 400
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_recording_after_the_customer_confirmed_changes_nothing(client, users, delivered):
    services.confirm_receipt(delivered.pk, how=ReceiptMethod.CUSTOMER)
    response = login(client, users, Role.SALES).post(phone_url(delivered), follow=True, **EN)
    assert response.status_code == 200
    assert "Receipt was already confirmed" in response.text
    assert Receipt.objects.get().how == "customer"


@pytest.mark.django_db
def test_unknown_order_is_404(client, users):
    assert (
        login(client, users, Role.SALES).post("/feedback/orders/20990101-0001/receipt/").status_code
        == 404
    )


# ---------------------------------------------------------------------------
# Resolving a case


def resolve_url(case):
    return reverse("feedback:resolve_case", args=[case.pk])


@pytest.mark.django_db
def test_sales_resolves_a_case_from_the_order_page(client, users, case):
    response = login(client, users, Role.SALES).post(
        resolve_url(case), {"resolution": "已补发新茶壶"}, **EN
    )
    assert response.status_code == 302
    assert response["Location"] == case.order.get_absolute_url() + f"#case-{case.pk}"
    case.refresh_from_db()
    assert (case.status, case.resolution, case.resolved_by) == (
        CaseStatus.RESOLVED,
        "已补发新茶壶",
        users[Role.SALES],
    )
    html = client.get(case.order.get_absolute_url(), **EN).text
    assert "已补发新茶壶" in html
    assert f'id="resolve-case-{case.pk}"' not in html
    assert "Problem report resolved" in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SALES)
def test_other_roles_may_not_resolve(client, users, case, role):
    assert (
        login(client, users, role).post(resolve_url(case), {"resolution": "x"}).status_code == 403
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.django_db
def test_a_resolution_is_required(client, users, case):
    response = login(client, users, Role.SALES).post(resolve_url(case), {"resolution": " "}, **EN)
    assert response.status_code == 400
    assert "Write how the problem was resolved." in response.text
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.django_db
def test_resolving_a_resolved_case_is_409(client, users, case):
    login(client, users, Role.SALES)
    assert client.post(resolve_url(case), {"resolution": "done"}).status_code == 302
    response = client.post(resolve_url(case), {"resolution": "again"}, **EN)
    assert response.status_code == 409
    assert "already resolved" in response.text
    case.refresh_from_db()
    assert case.resolution == "done"


@pytest.mark.django_db
def test_resolving_an_unknown_case_is_404(client, users):
    response = login(client, users, Role.SALES).post(
        "/feedback/cases/999999/resolve/", {"resolution": "x"}
    )
    assert response.status_code == 404


# ---------------------------------------------------------------------------
# Photos


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SALES, Role.MANAGER])
def test_sales_sees_the_photo(client, users, case, role):
    item = case.photos.get()
    response = login(client, users, role).get(reverse("feedback:photo", args=[item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == item.image.open("rb").read()
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SALES)
def test_other_roles_do_not_see_photos(client, users, case, role):
    item = case.photos.get()
    assert (
        login(client, users, role).get(reverse("feedback:photo", args=[item.pk])).status_code == 403
    )


@pytest.mark.django_db
def test_photos_are_not_public(client, case, settings):
    item = case.photos.get()
    response = client.get(reverse("feedback:photo", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    # Not under a guessable media address either: a random name per photo.
    assert len(item.image.name.rsplit("/", 1)[-1].split(".")[0]) == 32


@pytest.mark.django_db
def test_a_missing_photo_is_404(client, users, case):
    login(client, users, Role.SALES)
    assert client.get(reverse("feedback:photo", args=[999999])).status_code == 404
    item = case.photos.get()
    item.image.storage.delete(item.image.name)
    assert client.get(reverse("feedback:photo", args=[item.pk])).status_code == 404


# ---------------------------------------------------------------------------
# The Sales page


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SALES, Role.MANAGER])
def test_sales_page_lists_open_cases_by_age_and_orders_awaiting_receipt(
    client, users, order_in, role
):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=2), tick=False):
        old = order_in(Status.DELIVERED)
        old_case, _ = services.report_problem(
            old.pk, kind="missing", details="少一件", photos=[], key="o" * 32
        )
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        new = order_in(Status.DELIVERED)
        new_case, _ = services.report_problem(
            new.pk, kind="wrong_item", details="发错了", photos=[], key="n" * 32
        )
    with time_machine.travel(now - timedelta(hours=5), tick=False):
        waiting = order_in(Status.DELIVERED)
    done = order_in(Status.DELIVERED)
    services.confirm_receipt(done.pk, how=ReceiptMethod.CUSTOMER)

    response = login(client, users, role).get(reverse("feedback:cases"), **EN)
    assert response.status_code == 200
    html = response.text
    assert html.index(f'id="open-case-{old_case.pk}"') < html.index(f'id="open-case-{new_case.pk}"')
    open_section = html[html.index('id="open-cases"') : html.index('id="awaiting-receipt"')]
    assert "Late" in open_section  # the old case passed its 24 hours
    awaiting = html[html.index('id="awaiting-receipt"') :]
    assert f'id="awaiting-{waiting.number}"' in awaiting
    for order in (old, new, done):  # open cases and confirmed receipts are not waiting
        assert f'id="awaiting-{order.number}"' not in awaiting
    assert 'id="awaiting-count">1<' in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", NOT_SALES)
def test_sales_page_is_for_sales(client, users, role):
    assert login(client, users, role).get(reverse("feedback:cases")).status_code == 403


@pytest.mark.django_db
def test_sales_page_needs_a_login(client, db):
    response = client.get(reverse("feedback:cases"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(make_user(None))
    assert client.get(reverse("feedback:cases")).status_code == 403
