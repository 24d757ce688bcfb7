"""Verification, confirmation by Sales, and the customer's signed confirmation link."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from orders import emails, links
from orders.models import EventKind, Notification, Status
from orders.roles import Role
from tests.factories import CustomerFactory, place, promise_date


@pytest.fixture
def fresh_order(db):
    return place(customer=CustomerFactory(email="kehu@example.cn"), verified=False)


@pytest.mark.django_db
def test_sales_records_verification_on_the_order_page(client, users, fresh_order):
    client.force_login(users[Role.SALES])
    page = client.get(fresh_order.get_absolute_url()).text
    assert 'id="verify-first"' in page
    assert 'data-action="confirm"' in page and "disabled" in page
    response = client.post(
        f"/orders/{fresh_order.number}/verify/",
        {"contact": "on", "address": "on", "method": "phone", "note": "已电话核对"},
    )
    assert response.status_code == 302
    fresh_order.refresh_from_db()
    assert fresh_order.is_verified
    event = fresh_order.events.get(code="verified")
    assert (event.actor, event.note) == (users[Role.SALES], "已电话核对")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data", [{}, {"method": "phone"}, {"contact": "on", "method": "fax"}, {"contact": "on"}]
)
def test_bad_verification_is_400(client, users, fresh_order, data):
    client.force_login(users[Role.SALES])
    assert client.post(f"/orders/{fresh_order.number}/verify/", data).status_code == 400
    fresh_order.refresh_from_db()
    assert not fresh_order.contact_verified_at


@pytest.mark.django_db
def test_warehouse_cannot_verify(client, users, fresh_order):
    client.force_login(users[Role.WAREHOUSE])
    data = {"contact": "on", "method": "phone"}
    assert client.post(f"/orders/{fresh_order.number}/verify/", data).status_code == 403


@pytest.mark.django_db
def test_sales_confirms_with_promised_date_and_the_customer_is_emailed(client, users):
    order = place(customer=CustomerFactory(email="kehu@example.cn"))
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{order.number}/action/",
        {
            "action": "confirm",
            "expected_status": "placed",
            "promised_date": promise_date().isoformat(),
            "method": "email",
            "agreed": "2 箱龙井，周五前送达",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.promised_date == promise_date()
    assert order.promises.get().method == "email"
    confirmed = Notification.objects.get(order=order, kind="order_confirmed")
    assert emails.deliver(confirmed.pk)
    assert promise_date().isoformat() in mail.outbox[-1].body


@pytest.mark.django_db
def test_order_received_email_carries_a_working_confirm_link(client, fresh_order):
    notification = Notification.objects.get(order=fresh_order, kind="order_received")
    emails.deliver(notification.pk)
    body = mail.outbox[0].body
    url = links.confirm_url(fresh_order)
    assert url in body
    path = url.split("127.0.0.1:8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert fresh_order.number in page.text
    assert 'id="answer-confirm"' in page.text


@pytest.mark.django_db
def test_customer_confirms_through_the_link(client, fresh_order):
    path = links.confirm_url(fresh_order).split("127.0.0.1:8000", 1)[1]
    response = client.post(path, {"answer": "confirm"})
    assert response.status_code == 302
    fresh_order.refresh_from_db()
    assert fresh_order.status == Status.CONFIRMED
    assert fresh_order.is_verified
    promise = fresh_order.promises.get()
    assert (promise.method, promise.by) == ("link", None)
    assert promise.date >= timezone.localdate()
    event = fresh_order.events.get(kind=EventKind.TRANSITION, to_status=Status.CONFIRMED)
    assert event.actor is None
    # A second answer changes nothing and says so.
    again = client.post(path, {"answer": "confirm"})
    assert again.status_code == 409
    assert fresh_order.promises.count() == 1


@pytest.mark.django_db
def test_customer_asks_to_be_called_back(client, fresh_order):
    path = links.confirm_url(fresh_order).split("127.0.0.1:8000", 1)[1]
    assert client.post(path, {"answer": "callback"}).status_code == 302
    assert client.post(path, {"answer": "callback"}).status_code == 302
    fresh_order.refresh_from_db()
    assert fresh_order.status == Status.PLACED
    assert fresh_order.callback_requested_at is not None
    assert fresh_order.events.filter(code="callback_requested").count() == 1
    assert 'id="callback-noted"' in client.get(path).text


@pytest.mark.django_db
def test_bad_answer_is_400(client, fresh_order):
    path = links.confirm_url(fresh_order).split("127.0.0.1:8000", 1)[1]
    assert client.post(path, {"answer": "cancel"}).status_code == 400
    fresh_order.refresh_from_db()
    assert fresh_order.status == Status.PLACED


@pytest.mark.django_db
def test_tampered_link_is_refused(client, fresh_order):
    token = links.confirm_token(fresh_order)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(f"/confirm/{tampered}/")
    assert response.status_code == 400
    assert 'id="link-invalid"' in response.text
    assert client.post(f"/confirm/{tampered}/", {"answer": "confirm"}).status_code == 400
    fresh_order.refresh_from_db()
    assert fresh_order.status == Status.PLACED


@pytest.mark.django_db
def test_link_for_another_order_or_garbage_is_refused(client, fresh_order):
    assert client.get("/confirm/not-a-signed-value-at-all/").status_code == 400
    assert client.get("/confirm/%00%00%00%00%00%00%00%00%00%00/").status_code == 404


@pytest.mark.django_db
def test_expired_link_is_refused(client, fresh_order, settings):
    path = links.confirm_url(fresh_order).split("127.0.0.1:8000", 1)[1]
    later = timezone.now() + timedelta(days=settings.O2D_CONFIRM_LINK_DAYS, minutes=1)
    with time_machine.travel(later):
        response = client.post(path, {"answer": "confirm"})
    assert response.status_code == 410
    fresh_order.refresh_from_db()
    assert fresh_order.status == Status.PLACED
