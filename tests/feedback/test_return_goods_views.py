"""The pages for a return's goods: the customer's tracking number on the status page
(signed link), the warehouse's scan, receipt and inspection (its role, four eyes),
Sales' completion; bad input is a 4xx with a message and writes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from feedback import return_goods, returns
from feedback.models import ReturnRequest, ReturnStatus
from feedback.return_goods import Counted
from orders.models import Status
from orders.roles import Role
from orders.services import LineRequest
from tests.factories import ProductFactory, make_user
from warehouse.models import MovementKind, StockMovement

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def checker():
    return make_user(Role.WAREHOUSE, username="warehouse-checker")


@pytest.fixture
def rma(order_in, users):
    """An approved return (a refund) of 2 units of a delivered order's only line."""
    lines = [LineRequest(ProductFactory(unit_price=Decimal("30.00")), 2)]
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES], lines=lines)
    line = order.lines.get()
    request, _created = returns.request_return(
        order.pk, reason_code="damaged", quantities={line.pk: 2}, key="v" * 32
    )
    return returns.approve_return(request.pk, by=users[Role.SALES], outcome="refund")


def status(item):
    return ReturnRequest.objects.get(pk=item.pk).status


def test_the_customer_gives_the_tracking_number_on_the_status_page(client, rma, order_in):
    order = rma.order
    page = client.get(order.get_public_url(), **EN).text
    assert f'id="send-back-{rma.pk}"' in page
    url = reverse("feedback:send_back", args=[order.number, order.public_token, rma.pk])
    bad = client.post(url, {"tracking": "12"}, follow=True, **EN)
    assert "6 to 40 letters" in bad.text and status(rma) == ReturnStatus.APPROVED
    response = client.post(url, {"tracking": "SF1400123456", "carrier": "顺丰"}, **EN)
    assert response.status_code == 302 and response["Location"].endswith(f"#return-{rma.pk}")
    assert status(rma) == ReturnStatus.IN_TRANSIT
    page = client.get(order.get_public_url(), **EN).text
    assert "SF1400123456" in page and f'id="send-back-{rma.pk}"' not in page


def test_another_orders_link_cannot_touch_the_return(client, rma, order_in):
    other = order_in(Status.DELIVERED)
    for number, token in (
        (other.number, other.public_token),  # another order's own link
        (rma.order.number, other.public_token),  # this order with another's secret
    ):
        url = reverse("feedback:send_back", args=[number, token, rma.pk])
        assert client.post(url, {"tracking": "SF1400123456"}).status_code == 404
    assert status(rma) == ReturnStatus.APPROVED


def test_the_warehouse_scans_receives_and_a_second_person_inspects(client, rma, users, checker):
    line = rma.order.lines.get()
    client.force_login(users[Role.WAREHOUSE])
    dashboard = client.get(reverse("warehouse:dashboard"), **EN).text
    assert rma.rma_number in dashboard and 'id="rma-scan"' in dashboard
    scan = client.get(reverse("feedback:receive_scan"), {"rma": f" {rma.rma_number.lower()} "})
    receive_url = reverse("feedback:receive_return", args=[rma.pk])
    assert scan["Location"] == receive_url
    page = client.get(receive_url, **EN).text
    assert f'name="received-{line.pk}"' in page and 'value="2"' in page
    # More than was delivered: refused, nothing written.
    too_many = client.post(receive_url, {f"received-{line.pk}": "3"}, **EN)
    assert too_many.status_code == 400 and status(rma) == ReturnStatus.APPROVED
    assert client.post(receive_url, {f"received-{line.pk}": "2"}).status_code == 302
    assert status(rma) == ReturnStatus.RECEIVED

    inspect_url = reverse("feedback:inspect_return", args=[rma.pk])
    # A scan of a received parcel opens its inspection.
    assert client.get(reverse("feedback:receive_scan"), {"rma": rma.rma_number})["Location"] == (
        inspect_url
    )
    assert 'id="four-eyes"' in client.get(inspect_url, **EN).text
    data = {f"restock-{line.pk}": "1", f"write_off-{line.pk}": "1", f"repair-{line.pk}": "0"}
    assert client.post(inspect_url, data, **EN).status_code == 403
    client.force_login(checker)
    wrong = client.post(inspect_url, data | {f"restock-{line.pk}": "2"}, **EN)
    assert wrong.status_code == 400 and "no more and no fewer" in wrong.text
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN_RESTOCK).exists()
    assert client.post(inspect_url, data).status_code == 302
    assert status(rma) == ReturnStatus.INSPECTED
    assert StockMovement.objects.filter(kind=MovementKind.RETURN_RESTOCK).get().on_hand_change == 1


def test_an_unknown_rma_number_is_said_so(client, users):
    client.force_login(users[Role.WAREHOUSE])
    response = client.get(reverse("feedback:receive_scan"), {"rma": "R-NOPE"}, follow=True, **EN)
    assert "No return has this RMA number" in response.text


@pytest.mark.parametrize("role", [Role.SALES, Role.LOGISTICS, Role.FINANCE])
def test_receiving_and_inspecting_are_the_warehouses(client, rma, users, role):
    client.force_login(users[role])
    for name in ("receive_return", "inspect_return"):
        assert client.get(reverse(f"feedback:{name}", args=[rma.pk])).status_code == 403
        assert client.post(reverse(f"feedback:{name}", args=[rma.pk])).status_code == 403
    assert client.get(reverse("feedback:receive_scan"), {"rma": rma.rma_number}).status_code == 403
    assert status(rma) == ReturnStatus.APPROVED


def test_sales_completes_a_repair_on_the_order_page(client, order_in, users, checker):
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    line = order.lines.first()
    request, _created = returns.request_return(
        order.pk, reason_code="wrong_item", quantities={line.pk: 1}, key="e" * 32
    )
    request = returns.approve_return(request.pk, by=users[Role.SALES], outcome="repair")
    return_goods.receive(request.pk, by=users[Role.WAREHOUSE], quantities={line.pk: 1})
    return_goods.inspect(request.pk, by=checker, counted={line.pk: Counted(restock=1)})
    client.force_login(users[Role.SALES])
    page = client.get(order.get_absolute_url(), **EN).text
    assert f'id="settle-return-{request.pk}"' in page
    url = reverse("feedback:settle_return", args=[request.pk])
    assert client.post(url, {"note": ""}, **EN).status_code == 400
    assert status(request) == ReturnStatus.INSPECTED
    client.force_login(users[Role.WAREHOUSE])
    assert client.post(url, {"note": "Sent"}).status_code == 403
    client.force_login(users[Role.SALES])
    assert client.post(url, {"note": "Repaired, sent back by SF"}).status_code == 302
    assert status(request) == ReturnStatus.CLOSED


def _carrier_post(client, carrier, events):
    import json

    from django.utils import timezone

    from logistics import webhooks

    now = timezone.now()
    body = json.dumps(
        {
            "events": [
                webhooks.event_payload(
                    event_id, tracking, kind, now - timedelta(minutes=30 - i), "杭州"
                )
                for i, (event_id, tracking, kind) in enumerate(events)
            ]
        }
    ).encode()
    return client.post(
        f"/logistics/webhook/{carrier.code}/",
        body,
        content_type="application/json",
        headers=webhooks.signed_headers(carrier.webhook_secret, body),
    )


def test_the_carrier_tracks_the_parcel_back_and_a_problem_goes_to_sales(client, rma):
    from feedback.selectors import open_returns
    from tests.factories import carrier as make_carrier

    carrier = make_carrier()
    return_goods.send_back(rma.pk, tracking="SF1400123456", carrier=carrier.name)
    events = [
        ("r1", "sf1400123456", "in_transit"),
        ("r2", "SF1400123456", "delayed"),
        ("x1", "NOBODY0001", "in_transit"),
    ]
    response = _carrier_post(client, carrier, events)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "unknown": ["x1"], "invalid": []}
    # The same events again are duplicates: nothing is recorded twice.
    again = _carrier_post(client, carrier, events[:2]).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    item = ReturnRequest.objects.get(pk=rma.pk)
    assert [e.type for e in item.parcel_events.all()] == ["in_transit", "delayed"]
    assert item.parcel_problem
    assert [r.pk for r in open_returns()["to_settle"]] == [rma.pk]
    order = rma.order
    assert order.events.filter(code="return_parcel_event", public=True).count() == 2
    page = client.get(order.get_public_url(), **EN).text
    section = page[page.index(f'id="parcel-events-{rma.pk}"') :]
    assert "Delayed" in section[: section.index("</ol>")]


def test_a_carrier_pickup_agreed_by_sales_is_booked_by_logistics(client, order_in, users):
    from django.utils import timezone

    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    line = order.lines.first()
    request, _created = returns.request_return(
        order.pk, reason_code="damaged", quantities={line.pk: 1}, key="p" * 32
    )
    client.force_login(users[Role.SALES])
    url = reverse("feedback:approve_return", args=[request.pk])
    form = {f"approve-{line.pk}": "1", "outcome": "refund", "pickup": "on"}
    yesterday = timezone.localdate() - timedelta(days=1)
    tomorrow = timezone.localdate() + timedelta(days=1)
    for bad in ({}, {"pickup_date": str(yesterday)}, {"pickup_date": "not a date"}):
        response = client.post(url, form | bad | {"pickup_window": "morning"}, **EN)
        assert response.status_code == 400
        assert status(request) == ReturnStatus.REQUESTED
    response = client.post(
        url, form | {"pickup_date": str(tomorrow), "pickup_window": "morning"}, **EN
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.pickup_date, request.pickup_window) == (tomorrow, "morning")
    page = client.get(order.get_public_url(), **EN).text
    assert f'id="pickup-{request.pk}"' in page and f'id="send-back-{request.pk}"' not in page

    book = reverse("feedback:book_pickup", args=[request.pk])
    assert client.post(book, {"tracking": "SF1400999999"}).status_code == 403
    client.force_login(users[Role.LOGISTICS])
    dashboard = client.get(reverse("logistics:dashboard"), **EN).text
    assert f'id="book-pickup-{request.pk}"' in dashboard
    client.post(book, {"tracking": "1"}, **EN)
    assert status(request) == ReturnStatus.APPROVED
    assert client.post(book, {"tracking": "SF1400999999", "carrier": "顺丰"}).status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.IN_TRANSIT
    assert (
        request.return_tracking == "SF1400999999"
        and request.pickup_booked_by == users[Role.LOGISTICS]
    )
    assert f'id="book-pickup-{request.pk}"' not in client.get(reverse("logistics:dashboard")).text


def test_only_a_pickup_return_is_booked(rma, users):
    from orders.services import OrderActionError as Refused

    with pytest.raises(Refused):
        return_goods.book_pickup(rma.pk, by=users[Role.LOGISTICS], tracking="SF1400999999")
    assert status(rma) == ReturnStatus.APPROVED


def test_keeping_the_goods_needs_the_refund_on_the_approval_form(client, order_in, users):
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    line = order.lines.first()
    request, _created = returns.request_return(
        order.pk, reason_code="damaged", quantities={line.pk: 1}, key="q" * 32
    )
    client.force_login(users[Role.SALES])
    url = reverse("feedback:approve_return", args=[request.pk])
    form = {f"approve-{line.pk}": "1", "outcome": "partial_refund"}
    missing = client.post(url, form, **EN)
    assert missing.status_code == 400 and "keeps the goods" in missing.text
    assert status(request) == ReturnStatus.REQUESTED
    assert client.post(url, form | {"refund": "5.00"}).status_code == 302
    page = client.get(order.get_public_url(), **EN).text
    assert "You keep the goods, and we refund you 5.00" in page
    assert f'id="return-label-{request.pk}"' not in page
