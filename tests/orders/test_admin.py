import pytest
from django.urls import reverse

from orders.models import Status
from orders.roles import Role
from tests.factories import make_user, promise_date


@pytest.fixture
def admin_user(db):
    return make_user(None, username="root", is_superuser=True, is_staff=True)


@pytest.mark.django_db
def test_change_page_offers_transition_buttons(client, admin_user, order_in):
    order = order_in(Status.PLACED)
    client.force_login(admin_user)
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).text
    assert 'id="fsm-actions"' in html
    assert 'value="confirm"' in html
    assert 'value="pick"' not in html


@pytest.mark.django_db
def test_admin_transition_goes_through_the_service(client, admin_user, order_in):
    order = order_in(Status.PLACED)
    client.force_login(admin_user)
    url = reverse("admin:orders_order_transition", args=[order.pk])
    response = client.post(
        url,
        {"action": "confirm", "expected_status": "placed", "promised_date": promise_date()},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    event = order.events.exclude(to_status="").latest("created_at", "pk")
    assert (event.from_status, event.to_status, event.actor) == ("placed", "confirmed", admin_user)


@pytest.mark.django_db
def test_admin_transition_checks_the_role(client, order_in):
    sales_staff = make_user(Role.SALES, username="sales-admin", is_staff=True)
    order = order_in(Status.BACKORDERED)
    events = order.events.count()
    client.force_login(sales_staff)
    url = reverse("admin:orders_order_transition", args=[order.pk])
    response = client.post(
        url, {"action": "release_backorder", "expected_status": "backordered"}, follow=True
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED
    assert order.events.count() == events


@pytest.mark.django_db
def test_bulk_action_reports_orders_in_the_wrong_state(client, admin_user, order_in):
    waiting, shipped = order_in(Status.BACKORDERED), order_in(Status.SHIPPED)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "action_release_backorder", "_selected_action": [waiting.pk, shipped.pk]},
        follow=True,
    )
    assert response.status_code == 200
    waiting.refresh_from_db()
    shipped.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert shipped.status == Status.SHIPPED
    assert shipped.number in response.text


@pytest.mark.django_db
def test_orders_and_events_cannot_be_deleted_in_the_admin(client, admin_user, order_in):
    order = order_in(Status.CANCELLED)
    client.force_login(admin_user)
    assert client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    event = order.events.first()
    url = reverse("admin:orders_orderevent_delete", args=[event.pk])
    assert client.get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["order", "orderevent", "customer", "product", "processstep"])
def test_admin_lists_search_and_filter(client, admin_user, order_in, model):
    order_in(Status.CONFIRMED)
    client.force_login(admin_user)
    url = reverse(f"admin:orders_{model}_changelist")
    assert client.get(url, {"q": "王"}).status_code == 200


@pytest.mark.django_db
def test_admin_transition_with_bad_input_changes_nothing(client, admin_user, order_in):
    order = order_in(Status.CONFIRMED)
    client.force_login(admin_user)
    url = reverse("admin:orders_order_transition", args=[order.pk])
    response = client.post(
        url, {"action": "backorder", "expected_status": "confirmed", "note": "a\x00b"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
