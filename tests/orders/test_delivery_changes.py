"""Delivery needs: until packing starts the customer asks, from the status page, for
another delivery window, added instructions or another address; Sales approves or
refuses with a reason; carrier choice follows the approved change. After packing
starts the page says why nothing can be changed any more."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client

from orders import emails, services
from orders.models import (
    ChangeRequestStatus,
    DeliveryChangeRequest,
    Notification,
    NotificationKind,
    Order,
    OrderEvent,
    Status,
)
from orders.roles import Role
from tests.factories import place

NEW_ADDRESS = {
    "recipient": "林美",
    "phone": "139 0013 9456",
    "province": "广东省",
    "city": "广州市",
    "district": "天河区",
    "street": "天河路 385 号 12 楼",
    "postal_code": "510620",
}


def change_url(order):
    return order.get_public_url() + "change/"


def ask(client, order, **data):
    return client.post(change_url(order), data, HTTP_ACCEPT_LANGUAGE="en")


def decide(client, change, **data):
    return client.post(
        f"/orders/{change.order.number}/change-requests/{change.pk}/",
        data,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return {name: getattr(order, name) for name in services.CHANGEABLE_FIELDS}


# ------------------------------------------------------------------ the customer asks


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PLACED, Status.CONFIRMED, Status.BACKORDERED])
def test_customer_asks_for_a_change_before_packing(client, order_in, status):
    order = order_in(status)
    before = snapshot(order)
    response = ask(
        client, order, requested_window="evening", instructions="放在前台", **NEW_ADDRESS
    )
    assert response.status_code == 303
    assert response["Location"] == order.get_public_url() + "#delivery-change"
    change = DeliveryChangeRequest.objects.get(order=order)
    assert change.status == ChangeRequestStatus.PENDING
    assert change.what == ["window", "instructions", "address"]
    assert change.phone == "+8613900139456"  # normalised like every phone
    assert (change.province, change.city, change.street) == (
        "广东省",
        "广州市",
        "天河路 385 号 12 楼",
    )
    # Nothing changes before Sales decides.
    assert snapshot(order) == before
    event = order.events.get(code="change_requested")
    assert event.public and event.note == ""
    assert event.message == (
        "Delivery change requested: delivery window, delivery instructions, delivery address"
    )


@pytest.mark.django_db
def test_status_page_shows_the_pending_request_without_the_new_address(client, order_in):
    order = order_in(Status.CONFIRMED)
    ask(client, order, requested_window="evening", **NEW_ADDRESS)
    html = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="change-pending"' in html
    assert "delivery window, delivery address" in html
    assert 'id="change-form"' not in html  # one request at a time
    for text in NEW_ADDRESS.values():
        assert text not in html, text
    assert "13900139456" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "why"),
    [
        (Status.PICKED, "Your goods are being packed"),
        (Status.SHIPPED, "Your order is on its way"),
        (Status.DELIVERED, "Your order has been delivered"),
        (Status.CLOSED, "Your order has been delivered"),
        (Status.CANCELLED, "This order was cancelled"),
    ],
)
def test_change_of_address_is_refused_after_packing_started(client, order_in, status, why):
    order = order_in(status)
    before = snapshot(order)
    events = order.events.count()
    response = ask(client, order, **NEW_ADDRESS)
    assert response.status_code == 409
    assert why in response.text
    assert 'role="alert"' in response.text
    assert not DeliveryChangeRequest.objects.filter(order=order).exists()
    assert snapshot(order) == before
    assert order.events.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "why"),
    [
        (Status.PICKED, "Your goods are being packed, so the delivery can no longer be changed"),
        (Status.SHIPPED, "Your order is on its way with the carrier"),
    ],
)
def test_status_page_explains_why_it_can_no_longer_be_changed(client, order_in, status, why):
    order = order_in(status)
    html = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="change-form"' not in html
    assert why in html.split('id="change-closed"', 1)[1]


@pytest.mark.django_db
def test_status_page_offers_the_change_form_with_labelled_fields(client, order_in):
    order = order_in(Status.PLACED)
    html = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    form = html.split('id="change-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form
    for name in ("requested_window", "instructions", *NEW_ADDRESS):
        assert f'<label for="id_{name}">' in form, name
        assert f'id="id_{name}"' in form, name
    # The customer sees the window they keep; the current address is never
    # pre-filled: the page shows no street address.
    assert '<option value="" selected>Keep: Any time</option>' in form
    assert order.delivery_street not in html


@pytest.mark.django_db
def test_a_second_request_waits_for_the_answer_to_the_first(client, order_in):
    order = order_in(Status.CONFIRMED)
    assert ask(client, order, requested_window="evening").status_code == 303
    second = ask(client, order, instructions="请先打电话")
    assert second.status_code == 409
    assert "earlier request" in second.text
    assert DeliveryChangeRequest.objects.filter(order=order).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, None),  # nothing asked
        ({"requested_window": "midnight"}, "requested_window"),
        ({"street": "天河路 385 号"}, "province"),  # incomplete address
        ({**NEW_ADDRESS, "phone": "12345"}, "phone"),
        ({"instructions": "x" * 1001}, "instructions"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(client, order_in, data, field):
    order = order_in(Status.CONFIRMED)
    events = order.events.count()
    response = ask(client, order, **data)
    assert response.status_code == 400
    form = response.context["change_form"]
    assert form.errors[field] if field else form.non_field_errors()
    assert "Please correct the marked fields" in response.text
    assert not DeliveryChangeRequest.objects.exists()
    assert order.events.count() == events


@pytest.mark.django_db
def test_asking_for_what_the_order_already_has_is_refused(client, order_in):
    order = order_in(Status.CONFIRMED)  # window "any"
    response = ask(client, order, requested_window="any")
    assert response.status_code == 400
    assert "Nothing would change" in response.text
    assert not DeliveryChangeRequest.objects.exists()


@pytest.mark.django_db
def test_wrong_secret_is_404_and_get_is_not_allowed(client, order_in):
    order = order_in(Status.CONFIRMED)
    wrong = f"/status/{order.number}/{'x' * 32}/change/"
    assert client.post(wrong, {"requested_window": "evening"}).status_code == 404
    assert client.get(change_url(order)).status_code == 405
    assert not DeliveryChangeRequest.objects.exists()


@pytest.mark.django_db
def test_change_requests_need_the_csrf_token(order_in):
    order = order_in(Status.CONFIRMED)
    response = Client(enforce_csrf_checks=True).post(
        change_url(order), {"requested_window": "evening"}
    )
    assert response.status_code == 403
    assert not DeliveryChangeRequest.objects.exists()


@pytest.mark.django_db
def test_change_requests_are_rate_limited(client, order_in, settings):
    settings.O2D_LOOKUP_RATE = "2/m"
    order = order_in(Status.CONFIRMED)
    assert ask(client, order).status_code == 400
    assert ask(client, order).status_code == 400
    blocked = ask(client, order, requested_window="evening")
    assert blocked.status_code == 429
    assert "Too many requests" in blocked.text
    assert not DeliveryChangeRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_leave_one_waiting(users):
    order = place()
    results, errors = [], []
    barrier = threading.Barrier(8)

    def request(i):
        try:
            barrier.wait()
            services.request_delivery_change(order.pk, instructions=f"note {i}")
            results.append("ok")
        except services.TransitionNotAllowed:
            results.append("refused")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == ["ok"] + ["refused"] * 7
    assert DeliveryChangeRequest.objects.filter(order=order, status="pending").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_two_open_requests_and_empty_ones(order_in):
    order = order_in(Status.CONFIRMED)
    DeliveryChangeRequest.objects.create(order=order, instructions="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryChangeRequest.objects.create(order=order, instructions="b")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryChangeRequest.objects.create(order=order, status="refused")


# ------------------------------------------------------------------ Sales decides


@pytest.fixture
def asked(client, order_in):
    """A confirmed order whose customer asked for the evening, instructions and an
    address in another province."""
    order = order_in(Status.CONFIRMED, special_instructions="工作日送货")
    ask(client, order, requested_window="evening", instructions="放在前台", **NEW_ADDRESS)
    return DeliveryChangeRequest.objects.get(order=order)


@pytest.mark.django_db
def test_sales_sees_the_request_on_the_order_page_and_dashboard(client, asked, users):
    client.force_login(users[Role.SALES])
    page = client.get(asked.order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    card = page.split('id="change-requests"', 1)[1].split("</section>", 1)[0]
    assert "天河路 385 号 12 楼" in card  # staff see the new address
    assert "+8613900139456" in card
    assert "Evening" in card and "放在前台" in card
    assert 'id="approve-change"' in card and 'id="refuse-change"' in card
    assert "write it for them" in card  # the reason is read by the customer
    dashboard = client.get("/sales/", HTTP_ACCEPT_LANGUAGE="en").text
    queue = dashboard.split('id="change-request-table"', 1)[1].split("</table>", 1)[0]
    assert asked.order.number in queue
    assert "delivery window, delivery instructions, delivery address" in queue


@pytest.mark.django_db
def test_other_roles_see_the_request_but_cannot_decide(client, asked, users):
    client.force_login(users[Role.WAREHOUSE])
    page = client.get(asked.order.get_absolute_url()).text
    assert 'id="change-requests"' in page
    assert 'id="approve-change"' not in page


@pytest.mark.django_db
def test_approval_changes_the_order_and_tells_the_customer(client, asked, users):
    client.force_login(users[Role.SALES])
    response = decide(client, asked, decision="approve")
    assert response.status_code == 302
    order = Order.objects.get(pk=asked.order_id)
    assert order.requested_window == "evening"
    assert order.special_instructions == "工作日送货\n放在前台"
    assert order.delivery_recipient == "林美"
    assert order.delivery_phone == "+8613900139456"
    assert (order.delivery_province, order.delivery_city, order.delivery_district) == (
        "广东省",
        "广州市",
        "天河区",
    )
    assert order.delivery_street == "天河路 385 号 12 楼"
    assert order.delivery_postal_code == "510620"
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.APPROVED
    assert asked.decided_by == users[Role.SALES] and asked.decided_at

    changed = order.events.get(code="changed")
    assert not changed.public  # the old and new addresses are for staff only
    assert changed.actor == users[Role.SALES]
    assert changed.message == "Delivery details changed at the customer's request"
    fields = {c["field"]: (c["old"], c["new"]) for c in changed.changes}
    assert fields["requested_window"] == ("any", "evening")
    assert fields["delivery_street"] == ("世纪大道 100 号 8 楼", "天河路 385 号 12 楼")
    approved = order.events.get(code="change_approved")
    assert approved.public and approved.note == ""

    notification = Notification.objects.get(
        order=order, kind=NotificationKind.DELIVERY_CHANGE_APPROVED
    )
    assert notification.key == str(asked.pk)
    assert emails.deliver(notification.pk)
    (message,) = [m for m in mail.outbox if m.to == [order.customer.email]]
    assert order.number in message.subject
    assert "天河路 385 号 12 楼" in message.body

    html = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="change-decision"' in html and "We approved your request" in html
    assert "Delivery change approved" in html
    assert "天河路" not in html and "世纪大道" not in html  # still no street on the page
    assert "广州市" in html  # the new city
    assert 'id="change-form"' in html  # another request may follow


@pytest.mark.django_db
def test_carrier_choice_follows_an_approved_address_change(asked, users):
    from logistics.models import Carrier, CarrierRule, CarrierService
    from logistics.services import carrier_options

    carrier = Carrier.objects.create(
        code="canton-express",
        name="Canton Express",
        tracking_url="https://track.canton.example/{tracking}",
        tracking_prefix="CE",
    )
    service = CarrierService.objects.create(
        carrier=carrier,
        level="express",
        transit_days=1,
        max_weight_kg=Decimal("30"),
        base_price=Decimal("8.00"),
        price_per_kg=Decimal("1.00"),
        honours_time_window=True,
    )
    CarrierRule.objects.create(service=service, province="广东省")

    def carriers():
        order = Order.objects.get(pk=asked.order_id)
        return {option.carrier.code for option in carrier_options(order, [])}

    assert "canton-express" not in carriers()  # still going to Shanghai
    services.approve_delivery_change(asked.pk, by=users[Role.SALES])
    assert "canton-express" in carriers()


@pytest.mark.django_db
def test_refusal_needs_a_reason_written_for_the_customer(client, asked, users):
    client.force_login(users[Role.SALES])
    before = snapshot(asked.order)
    response = decide(client, asked, decision="refuse", reason="  ")
    assert response.status_code == 400
    assert "Give the customer a reason" in response.text
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.PENDING

    response = decide(client, asked, decision="refuse", reason="广州不在我们的配送范围内。")
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.REFUSED
    assert asked.reason == "广州不在我们的配送范围内。"
    assert snapshot(asked.order) == before
    refused = asked.order.events.get(code="change_refused")
    assert refused.public and refused.note == ""

    html = client.get(asked.order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert "We could not accept your request" in html
    assert html.count("广州不在我们的配送范围内。") == 2  # the card and the timeline

    notification = Notification.objects.get(
        order=asked.order, kind=NotificationKind.DELIVERY_CHANGE_REFUSED
    )
    assert emails.deliver(notification.pk)
    assert "广州不在我们的配送范围内。" in mail.outbox[-1].body


@pytest.mark.django_db
def test_approval_after_packing_started_is_refused_and_the_request_stays_open(client, asked, users):
    from tests.factories import through_warehouse

    through_warehouse(asked.order, by=users[Role.MANAGER])  # now picked and packed
    before = snapshot(asked.order)
    client.force_login(users[Role.SALES])
    page = client.get(asked.order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert 'id="change-too-late"' in page and 'id="approve-change"' not in page

    response = decide(client, asked, decision="approve")
    assert response.status_code == 409
    assert "packing has started" in response.text
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.PENDING
    assert snapshot(asked.order) == before
    assert not asked.order.events.filter(code="change_approved").exists()
    # Refusing, with a reason, is still possible.
    assert decide(client, asked, decision="refuse", reason="已经打包好了。").status_code == 302


@pytest.mark.django_db
def test_a_request_is_answered_once(client, asked, users):
    client.force_login(users[Role.SALES])
    assert decide(client, asked, decision="approve").status_code == 302
    again = decide(client, asked, decision="refuse", reason="改变主意")
    assert again.status_code == 409
    assert "answered meanwhile" in again.text
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.APPROVED
    assert asked.order.events.filter(code__in=["change_approved", "change_refused"]).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.LOGISTICS, Role.FINANCE])
def test_only_sales_decides(client, asked, users, role):
    client.force_login(users[role])
    assert decide(client, asked, decision="approve").status_code == 403
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.PENDING
    with pytest.raises(services.TransitionForbidden):
        services.approve_delivery_change(asked.pk, by=users[role])
    with pytest.raises(services.TransitionForbidden):
        services.refuse_delivery_change(asked.pk, by=users[role], reason="no")


@pytest.mark.django_db
def test_anonymous_decisions_go_to_the_login_page(client, asked):
    response = decide(client, asked, decision="approve")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_decision_of_another_orders_request_or_nonsense_is_refused(client, asked, users, order_in):
    client.force_login(users[Role.SALES])
    other = order_in(Status.PLACED)
    url = f"/orders/{other.number}/change-requests/{asked.pk}/"
    assert client.post(url, {"decision": "approve"}).status_code == 404
    assert decide(client, asked, decision="maybe").status_code == 400
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.PENDING


@pytest.mark.django_db
def test_manager_may_decide(asked, users):
    services.refuse_delivery_change(asked.pk, by=users[Role.MANAGER], reason="请来电。")
    asked.refresh_from_db()
    assert asked.status == ChangeRequestStatus.REFUSED


@pytest.mark.django_db
def test_timeline_events_of_requests_are_worded_at_read_time(asked, users):
    services.refuse_delivery_change(asked.pk, by=users[Role.SALES], reason="太晚了")
    messages = [e.message for e in OrderEvent.objects.filter(order=asked.order, public=True)]
    assert (
        "Delivery change requested: delivery window, delivery instructions, delivery address"
    ) in messages
    assert "Delivery change refused: 太晚了" in messages
