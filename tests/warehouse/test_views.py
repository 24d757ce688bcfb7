"""The warehouse pages: role checks, answers to bad input, pick lists, dashboard."""

import pytest
from django.urls import reverse

from orders import services as order_services
from orders.models import Order, Status
from orders.roles import Role
from tests.factories import ProductFactory, place, promise_date, reviewer, stock_for
from warehouse import services
from warehouse.models import Bin, Package, Pick, StockItem


@pytest.fixture
def order(users):
    """A confirmed order of two products stored in bins B-02 and A-01, with stock."""
    tea, cup = ProductFactory(sku="TEA-7", name="龙井茶"), ProductFactory(sku="CUP-7")
    placed = place(
        lines=[order_services.LineRequest(tea, 2), order_services.LineRequest(cup, 1)],
        special_instructions="请放门卫室",
    )
    stock_for(placed, extra=5)
    main = services.main_warehouse()
    for product, code in ((tea, "B-02"), (cup, "A-01")):
        StockItem.objects.filter(product=product).update(
            bin=Bin.objects.create(warehouse=main, code=code)
        )
    return order_services.confirm_order(
        placed.pk, by=users[Role.SALES], promised_date=promise_date()
    )


@pytest.fixture
def wh(client, users):
    client.force_login(users[Role.WAREHOUSE])
    return client


def urls(number):
    return [
        f"/warehouse/orders/{number}/",
        f"/warehouse/orders/{number}/pick-list/",
        f"/warehouse/orders/{number}/packing-slip.pdf",
        f"/warehouse/orders/{number}/labels.pdf",
        "/warehouse/",
        "/warehouse/pick-list/",
        "/warehouse/stock/",
    ]


POSTS = ["acknowledge", "reserve", "scan", "discrepancy", "packages", "packed", "review"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SALES, Role.LOGISTICS, Role.FINANCE])
def test_other_roles_get_403_everywhere(client, users, order, role):
    client.force_login(users[role])
    for url in urls(order.number):
        if role == Role.LOGISTICS and url.endswith("labels.pdf"):
            continue  # Logistics reprints labels (tested in tests/logistics)
        assert client.get(url).status_code == 403, url
    for name in POSTS:
        assert client.post(f"/warehouse/orders/{order.number}/{name}/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client, order):
    for url in urls(order.number):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_queues_follow_the_work(wh, order, users):
    def queue(key):
        html = wh.get("/warehouse/?partial=1").text
        return html.split(f'id="queue-{key}"')[1].split("</section>")[0]

    assert order.number in queue("to_acknowledge")
    assert f'href="/warehouse/orders/{order.number}/"' in queue("to_acknowledge")
    assert wh.post(f"/warehouse/orders/{order.number}/acknowledge/").status_code == 302
    assert order.number in queue("to_pick") and order.number not in queue("to_acknowledge")
    for sku, quantity in (("TEA-7", 2), ("CUP-7", 1)):
        wh.post(f"/warehouse/orders/{order.number}/scan/", {"sku": sku, "quantity": quantity})
    assert order.number in queue("to_pack")
    wh.post(
        f"/warehouse/orders/{order.number}/packages/",
        {"weight_kg": "1.200", "length_cm": 30, "width_cm": 20, "height_cm": 10},
    )
    wh.post(f"/warehouse/orders/{order.number}/packed/")
    assert order.number in queue("to_review")
    services.review_order(order.pk, by=reviewer(), passed=True)
    for key in ("to_acknowledge", "to_pick", "to_pack", "to_review"):
        assert order.number not in queue(key)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"sku": "", "quantity": 1}, 400),
        ({"sku": "TEA-7", "quantity": 0}, 400),
        ({"sku": "TEA-7", "quantity": "many"}, 400),
        ({"sku": "NOPE-1", "quantity": 1}, 400),
        ({"sku": "TEA-7", "quantity": 3}, 400),
    ],
)
def test_bad_scans_are_answered_with_a_message_and_record_nothing(wh, order, data, status):
    wh.post(f"/warehouse/orders/{order.number}/acknowledge/")
    response = wh.post(f"/warehouse/orders/{order.number}/scan/", data)
    assert response.status_code == status
    assert 'class="error"' in response.text or "errorlist" in response.text
    assert not Pick.objects.exists()


@pytest.mark.django_db
def test_scanning_before_acknowledging_is_refused(wh, order):
    response = wh.post(f"/warehouse/orders/{order.number}/scan/", {"sku": "TEA-7", "quantity": 1})
    assert response.status_code == 400
    assert not Pick.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"weight_kg": "-1", "length_cm": 30, "width_cm": 20, "height_cm": 10},
        {"weight_kg": "0", "length_cm": 30, "width_cm": 20, "height_cm": 10},
        {"weight_kg": "1", "length_cm": 0, "width_cm": 20, "height_cm": 10},
        {"weight_kg": "abc", "length_cm": 30, "width_cm": 20, "height_cm": 10},
        {"weight_kg": "99999", "length_cm": 30, "width_cm": 20, "height_cm": 10},
        {},
    ],
)
def test_bad_packages_are_refused(wh, order, users, data):
    services.acknowledge_order(order.pk, by=users[Role.WAREHOUSE])
    for line in order.lines.all():
        services.record_pick(
            order.pk, by=users[Role.WAREHOUSE], scanned=line.sku, quantity=line.quantity
        )
    response = wh.post(f"/warehouse/orders/{order.number}/packages/", data)
    assert response.status_code == 400
    assert not Package.objects.exists()


@pytest.mark.django_db
def test_packing_a_confirmed_order_is_a_409(wh, order):
    response = wh.post(
        f"/warehouse/orders/{order.number}/packages/",
        {"weight_kg": "1", "length_cm": 30, "width_cm": 20, "height_cm": 10},
    )
    assert response.status_code == 409
    assert not Package.objects.exists()


@pytest.mark.django_db
def test_the_picker_cannot_review_on_the_page_either(wh, order, users):
    picker = users[Role.WAREHOUSE]
    services.acknowledge_order(order.pk, by=picker)
    for line in order.lines.all():
        services.record_pick(order.pk, by=picker, scanned=line.sku, quantity=line.quantity)
    services.add_package(order.pk, by=picker, weight_kg=1, length_cm=1, width_cm=1, height_cm=1)
    services.finish_packing(order.pk, by=picker)
    page = wh.get(f"/warehouse/orders/{order.number}/").text
    assert 'id="picker-warning"' in page and 'id="review-form"' not in page
    response = wh.post(f"/warehouse/orders/{order.number}/review/", {"result": "pass"})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).reviewed_at is None
    # A failed review needs its reason, also on the page.
    wh.force_login(reviewer())
    response = wh.post(f"/warehouse/orders/{order.number}/review/", {"result": "fail"})
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).status == Status.PICKED


@pytest.mark.django_db
def test_pick_list_walks_the_bins_in_order_and_shows_the_delivery_needs(wh, order):
    html = wh.get(f"/warehouse/orders/{order.number}/pick-list/", HTTP_ACCEPT_LANGUAGE="en").text
    table = html.split('id="pick-list"')[1]
    assert table.index("A-01") < table.index("B-02")
    assert table.index("CUP-7") < table.index("TEA-7")
    assert "请放门卫室" in html
    assert order.get_requested_window_display() in html


@pytest.mark.django_db
def test_batch_pick_list_adds_up_each_sku_across_orders(wh, order, users):
    second = place(lines=[order_services.LineRequest(order.lines.get(sku="TEA-7").product, 3)])
    stock_for(second)
    order_services.confirm_order(second.pk, by=users[Role.SALES], promised_date=promise_date())
    for each in (order, second):
        services.acknowledge_order(each.pk, by=users[Role.WAREHOUSE])
    html = wh.get("/warehouse/pick-list/").text
    table = html.split('id="batch-pick-list"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]  # after the header row
    assert [("A-01" in r, "B-02" in r) for r in rows] == [(True, False), (False, True)]
    tea_row = rows[1]
    assert '<td class="num">5</td>' in tea_row
    assert f"{order.number} × 2" in tea_row and f"{second.number} × 3" in tea_row
    # Only the chosen orders, when some are given.
    html = wh.get(f"/warehouse/pick-list/?orders={second.number}").text
    table = html.split('id="batch-pick-list"')[1].split("</table>")[0]
    assert "CUP-7" not in table and '<td class="num">3</td>' in table


@pytest.mark.django_db
def test_the_batch_pick_list_takes_one_wave_of_the_longest_waiting(wh, order, users, monkeypatch):
    from warehouse import selectors

    second = place(lines=[order_services.LineRequest(order.lines.get(sku="TEA-7").product, 3)])
    stock_for(second)
    order_services.confirm_order(second.pk, by=users[Role.SALES], promised_date=promise_date())
    for each in (second, order):  # the second order is acknowledged first
        services.acknowledge_order(each.pk, by=users[Role.WAREHOUSE])
    monkeypatch.setattr(selectors, "PICK_WAVE", 1)
    html = wh.get("/warehouse/pick-list/", HTTP_ACCEPT_LANGUAGE="en").text
    assert f"<li><strong>{second.number}</strong>" in html
    assert order.number not in html
    assert "More orders are waiting" in html
    monkeypatch.setattr(selectors, "PICK_WAVE", 2)
    html = wh.get("/warehouse/pick-list/", HTTP_ACCEPT_LANGUAGE="en").text
    assert order.number in html and second.number in html
    assert "More orders are waiting" not in html


@pytest.mark.django_db
def test_low_stock_alert_uses_the_threshold_set_in_the_admin(wh, order):
    item = StockItem.objects.get(product__sku="CUP-7")  # 6 on hand, nothing reserved yet
    html = wh.get("/warehouse/?partial=1").text.split('id="low-stock"')[1]
    assert "CUP-7" not in html
    StockItem.objects.filter(pk=item.pk).update(low_stock_threshold=6)
    html = wh.get("/warehouse/?partial=1").text.split('id="low-stock"')[1]
    assert "CUP-7" in html and "TEA-7" not in html


@pytest.mark.django_db
def test_labels_need_packages(wh, order):
    assert wh.get(f"/warehouse/orders/{order.number}/labels.pdf").status_code == 409


@pytest.mark.django_db
def test_pdfs_are_served_inline(wh, order, users):
    picker = users[Role.WAREHOUSE]
    services.acknowledge_order(order.pk, by=picker)
    for line in order.lines.all():
        services.record_pick(order.pk, by=picker, scanned=line.sku, quantity=line.quantity)
    services.add_package(order.pk, by=picker, weight_kg=1, length_cm=9, width_cm=9, height_cm=9)
    for name in ("packing-slip.pdf", "labels.pdf"):
        response = wh.get(f"/warehouse/orders/{order.number}/{name}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline;")
        assert response.content.startswith(b"%PDF")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "on_hand"),
    [
        ({"kind": "receive", "quantity": 0}, 6),
        ({"kind": "remove", "quantity": 2, "reason": ""}, 6),
        ({"kind": "remove", "quantity": 7, "reason": "count"}, 6),
        ({"kind": "bogus", "quantity": 1}, 6),
    ],
)
def test_bad_stock_changes_are_refused(wh, order, data, on_hand):
    item = StockItem.objects.get(product__sku="CUP-7")
    response = wh.post(reverse("warehouse:stock_change", args=[item.pk]), data)
    assert response.status_code == 400
    assert "errorlist" in response.text or 'class="error"' in response.text
    item.refresh_from_db()
    assert item.on_hand == on_hand


@pytest.mark.django_db
def test_stock_adjustment_with_a_reason_is_a_movement(wh, order, users):
    item = StockItem.objects.get(product__sku="CUP-7")
    response = wh.post(
        reverse("warehouse:stock_change", args=[item.pk]),
        {"kind": "remove", "quantity": 2, "reason": "broken in the aisle"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.on_hand == 4
    movement = item.movements.latest("created_at", "pk")
    assert (movement.on_hand_change, movement.reason, movement.by) == (
        -2,
        "broken in the aisle",
        users[Role.WAREHOUSE],
    )
