"""Query budgets of the public pages: the online order page (GET and POST), the
status page and the lookup page (/track/), each measured with few and with many
orders in the database, and the status page also for an order with a long history
and three parcels; and the pages a customer reaches after ordering (the thank-you page
and the confirmation link). A query per row (or per event, per parcel) fails these
tests.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logistics import services as logistics
from logistics.models import Shipment
from orders.models import Order, Status
from orders.roles import Role
from orders.services import LineRequest, add_comment
from tests.factories import ProductFactory, place

# The budgets: the counts these pages make today. Lower is welcome; more fails.
ORDER_PAGE_GET = 1  # the products on sale (no session: the browser's orders are in a cookie)
# products; phone lock; customer look-up and insert; order, lines, event, email;
# the day's order number; the order's number: 10 statements (BEGIN and COMMIT are not
# counted). Inside a test's transaction the placement's own is a savepoint: +2.
ORDER_PAGE_POST = 10 + 2
# A delivered order's page reads its return windows too (one query: the reasons, with
# the delivery time and whether the order has returns); with returns, the returns,
# their lines and photos: three more, however many there are.
STATUS_PAGE = 7
STATUS_PAGE_WITH_RETURNS = STATUS_PAGE + 3
# The order, the return (with its order's customer), its lines, the return address.
RETURN_LABEL = 4
LOOKUP_GET = 0
LOOKUP_POST = 1  # the order by its number


def more_orders(count, users):
    """``count`` orders of as many customers, written the cheap way (the pages under
    test read one order; the others only have to be there)."""
    product = ProductFactory()
    for _ in range(count):
        place(by=users[Role.SALES], lines=[LineRequest(product, 1)], verified=False)


@pytest.fixture(params=[10, 200], ids=["10-orders", "200-orders"])
def many(request, db, users):
    more_orders(request.param, users)
    return request.param


def form_data(client, product, index):
    import re

    html = client.get("/order/").text
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    return {
        "token": token,
        "website": "",
        "name": f"Budget Customer {index}",
        "country": "CN",
        "phone": f"1390000{index:04d}",
        "email": f"budget{index}@example.com",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 1 号",
        "postal_code": "310000",
        "requested_date": "",
        "requested_window": "any",
        "special_instructions": "",
        f"qty_{product.pk}": "2",
    }


def count_queries(func):
    with CaptureQueriesContext(connection) as queries:
        func()
    return len(queries), [q["sql"] for q in queries.captured_queries]


# ---------------------------------------------------------------- the online order page


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_order_page_get_budget(client, many, django_assert_max_num_queries, language):
    ProductFactory.create_batch(3)
    with django_assert_max_num_queries(ORDER_PAGE_GET):
        response = client.get("/order/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200


@pytest.mark.django_db
def test_order_page_post_budget(client, many, django_assert_max_num_queries):
    product = ProductFactory(unit_price=Decimal("12.50"))
    before = Order.objects.count()
    for index in range(3):  # a browser that orders again sends its cookie back
        data = form_data(client, product, index)
        with django_assert_max_num_queries(ORDER_PAGE_POST):
            response = client.post("/order/", data)
        assert response.status_code == 302, response.text
    assert Order.objects.count() == before + 3


@pytest.mark.django_db
def test_order_page_counts_do_not_grow_with_the_orders(client, users):
    product = ProductFactory()
    counts = []
    for step, extra in enumerate([10, 190]):
        more_orders(extra, users)
        get, _sql = count_queries(lambda: client.get("/order/"))
        data = form_data(client, product, step)
        post, _sql = count_queries(lambda data=data: client.post("/order/", data))
        counts.append((get, post))
    assert counts[0] == counts[1] == (ORDER_PAGE_GET, ORDER_PAGE_POST)


# ---------------------------------------------------------------- the status page


def with_history(order, users, *, parcels=3, events=30):
    """Give a shipped order many public events and ``parcels`` shipments."""
    shipment = order.shipments.get()
    for copy in range(parcels - 1):
        extra = Shipment.objects.create(
            order=order,
            service=shipment.service,
            carrier=shipment.carrier,
            tracking_number=f"{shipment.tracking_number}{copy}",
            shipped_by=shipment.shipped_by,
            estimated_delivery=shipment.estimated_delivery,
        )
        extra.packages.set(shipment.packages.all())
    for index in range(events // 2):
        logistics.record_event(shipment.pk, type="in_transit", location=f"转运中心 {index}")
        add_comment(order.pk, by=users[Role.SALES], text=f"内部备注 {index}")
    return order


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PLACED, Status.SHIPPED, Status.DELIVERED])
def test_status_page_budget(client, many, order_in, django_assert_max_num_queries, status):
    order = order_in(status)
    with django_assert_max_num_queries(STATUS_PAGE):
        response = client.get(order.get_public_url())
    assert response.status_code == 200


def with_change_request(order, users):
    """A delivery change that the customer asked for and Sales refused (as
    services.request_delivery_change and refuse_delivery_change write it)."""
    from django.utils import timezone

    from orders import timeline
    from orders.models import ChangeRequestStatus, DeliveryChangeRequest

    change = DeliveryChangeRequest.objects.create(
        order=order,
        requested_window="evening",
        status=ChangeRequestStatus.REFUSED,
        decided_by=users[Role.SALES],
        decided_at=timezone.now(),
        reason="Too late for this delivery",
    )
    data = {"request": change.pk, "what": change.what}
    timeline.record(order, "change_requested", data=data, public=True)
    timeline.record(order, "change_refused", data={**data, "reason": "x"}, public=True)
    return order


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.SHIPPED, Status.DELIVERED])
def test_status_page_budget_with_long_history_and_three_parcels(
    client, many, order_in, users, django_assert_max_num_queries, status
):
    order = with_change_request(with_history(order_in(status), users), users)
    with django_assert_max_num_queries(STATUS_PAGE):
        response = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.text
    assert html.count('class="shipment"') == 3
    assert html.count("In transit · 转运中心") == 15
    assert 'id="change-decision"' in html
    if status == Status.DELIVERED:
        assert 'id="receipt-panel"' in html


@pytest.mark.django_db
def test_status_page_count_does_not_grow(client, order_in, users):
    order = order_in(Status.SHIPPED)
    few, _sql = count_queries(lambda: client.get(order.get_public_url()))
    more_orders(200, users)
    with_history(order, users)
    many, sql = count_queries(lambda: client.get(order.get_public_url()))
    assert few == many <= STATUS_PAGE, "\n".join(sql)


@pytest.mark.django_db
def test_delivered_status_page_count_does_not_grow(client, order_in, users):
    order = with_change_request(order_in(Status.DELIVERED), users)
    few, _sql = count_queries(lambda: client.get(order.get_public_url()))
    more_orders(200, users)
    with_history(order, users)
    many, sql = count_queries(lambda: client.get(order.get_public_url()))
    assert few == many == STATUS_PAGE, "\n".join(sql)


# ---------------------------------------------------------------- the lookup page


@pytest.mark.django_db
def test_lookup_budgets(client, many, order_in, django_assert_max_num_queries):
    order = order_in(Status.CONFIRMED)
    with django_assert_max_num_queries(LOOKUP_GET):
        assert client.get("/track/").status_code == 200
    with django_assert_max_num_queries(LOOKUP_POST):
        found = client.post("/track/", {"number": order.number, "contact": order.contact_email})
    assert found.status_code == 303
    with django_assert_max_num_queries(LOOKUP_POST):
        missed = client.post("/track/", {"number": order.number, "contact": "x@example.com"})
    assert missed.status_code == 404


@pytest.mark.django_db
def test_lookup_counts_do_not_grow(client, order_in, users):
    order = order_in(Status.CONFIRMED)
    data = {"number": order.number, "contact": order.contact_email}
    few = [count_queries(lambda: client.get("/track/"))[0]]
    few.append(count_queries(lambda: client.post("/track/", data))[0])
    more_orders(200, users)
    many = [count_queries(lambda: client.get("/track/"))[0]]
    many.append(count_queries(lambda: client.post("/track/", data))[0])
    assert few == many == [LOOKUP_GET, LOOKUP_POST]


# ---------------------------------------------------------------- after ordering


RECEIVED_PAGE = 2  # the order by its number, its lines (no session)
CONFIRM_PAGE = 2  # the order behind the signed link, its lines


@pytest.mark.django_db
def test_received_page_budget(client, many, django_assert_max_num_queries):
    product = ProductFactory()
    response = client.post("/order/", form_data(client, product, 1))
    assert response.status_code == 302
    with django_assert_max_num_queries(RECEIVED_PAGE):
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200


@pytest.mark.django_db
def test_customer_confirm_page_budget(client, many, order_in, django_assert_max_num_queries):
    from orders.links import confirm_token

    order = order_in(Status.PLACED)
    with django_assert_max_num_queries(CONFIRM_PAGE):
        page = client.get(f"/confirm/{confirm_token(order)}/")
    assert page.status_code == 200


@pytest.mark.django_db
def test_status_page_budget_with_returns(
    client, many, order_in, users, django_assert_max_num_queries
):
    from feedback import returns

    order = order_in(Status.DELIVERED)
    line = order.lines.get()
    for index in range(3):
        request, _created = returns.request_return(
            order.pk, reason_code="damaged", quantities={line.pk: 1}, key=f"{index:032d}"
        )
        if index < 2:
            returns.refuse_return(request.pk, by=users[Role.SALES], answer="No")
    with django_assert_max_num_queries(STATUS_PAGE_WITH_RETURNS):
        response = client.get(order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.text.count('id="return-') >= 3


@pytest.mark.django_db
def test_return_label_budget(client, many, order_in, users, django_assert_max_num_queries):
    from django.urls import reverse

    from feedback import returns

    order = order_in(Status.DELIVERED)
    line = order.lines.get()
    request, _created = returns.request_return(
        order.pk, reason_code="damaged", quantities={line.pk: 2}, key="b" * 32
    )
    returns.approve_return(request.pk, by=users[Role.SALES], outcome="exchange")
    url = reverse(
        "feedback:public_return_label", args=[order.number, order.public_token, request.pk]
    )
    with django_assert_max_num_queries(RETURN_LABEL):
        response = client.get(url)
    assert response.status_code == 200
