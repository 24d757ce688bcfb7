"""The warehouse in a real Chromium: an order acknowledged, picked by scanning, packed
and reviewed by a second person (with a failed review sending it back to picking);
the shortage loop from the warehouse to Sales, to the customer's phone and back to
the warehouse queue when goods arrive; picking from the keyboard alone; and the
printable pick lists in bin order.

Each person works in a browser context of their own, signed in through the login
form. Screenshots go to artifacts/screenshots/warehouse-*.png, pick-list.png,
batch-pick-list.png and status-new-date-phone.png (git-ignored).
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders import services as order_services
from orders.models import (
    DeliveryPromise,
    FollowUp,
    FollowUpReason,
    NotificationKind,
    Order,
    Status,
)
from tests.browser.helpers import ENGLISH, PHONE
from tests.browser.helpers import assert_no_sideways_scroll as assert_fits
from tests.browser.helpers import screenshot as shot
from tests.factories import CustomerFactory, ProductFactory, make_user, place, promise_date
from warehouse import services
from warehouse.models import Bin, Fulfilment, Package, Pick, Reservation, Review, StockItem

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]


# Products and the bins they sit in. Walking order is bin order: A before B before C;
# the rice has no bin yet and comes last.
PRODUCTS = [
    ("TEA-0250", "West Lake Longjing tea 250g", "168.00", "B-02-3"),
    ("CUP-0500", "Steel vacuum cup 500ml", "89.00", "A-01-1"),
    ("LAMP-010", "Desk lamp", "129.00", "C-05-2"),
    ("RICE-005", "Wuchang rice 5kg", "128.00", None),
]


@pytest.fixture
def people(users):
    """Sales, the picker and a second warehouse user (the reviewer), with names."""
    sales, picker = users["Sales"], users["Warehouse"]
    sales.first_name, sales.last_name, sales.email = "Chen", "Jing", "chen.jing@example.cn"
    sales.save()
    picker.first_name, picker.last_name = "Zhao", "Qiang"
    picker.save()
    reviewer = make_user("Warehouse", username="reviewer-user", first_name="Qian", last_name="Fang")
    return {"sales": sales, "picker": picker, "reviewer": reviewer}


@pytest.fixture
def products(db):
    """The products, each with a stock row in its bin: {sku: product}."""
    warehouse = services.main_warehouse()
    made = {}
    for sku, name, price, bin_code in PRODUCTS:
        product = ProductFactory(sku=sku, name=name, unit_price=Decimal(price))
        item = services.stock_item_for(product)
        if bin_code:
            item.bin = Bin.objects.create(warehouse=warehouse, code=bin_code)
            item.save(update_fields=["bin"])
        made[sku] = product
    return made


def stock(product, quantity):
    item = services.stock_item_for(product)
    services.receive_goods(item.pk, quantity, by=None, reason="Opening stock")
    return item


def confirmed_order(sales, lines, **kwargs) -> Order:
    """An order Sales has confirmed: it is the warehouse's turn."""
    order = place(
        lines=[order_services.LineRequest(product, quantity) for product, quantity in lines],
        salesperson=sales,
        **kwargs,
    )
    return order_services.confirm_order(order.pk, by=sales, promised_date=promise_date())


def work_url(order) -> str:
    return reverse("warehouse:order", args=[order.number])


def scan(page: Page, sku: str, quantity: int = 1):
    form = page.locator("#scan-form")
    form.get_by_label("Scan or type the SKU").fill(sku)
    form.get_by_label("Quantity").fill(str(quantity))
    page.locator("#confirm-pick").click()


def pack_one(page: Page, weight="2.35", size=("40", "30", "20")):
    form = page.locator("#package-form")
    form.get_by_label("Weight (kg)").fill(weight)
    form.get_by_label("Length (cm)").fill(size[0])
    form.get_by_label("Width (cm)").fill(size[1])
    form.get_by_label("Height (cm)").fill(size[2])
    page.locator("#add-package").click()
    expect(page.locator(".messages .success")).to_have_text("Package added.")


def bins_in(page: Page, table: str) -> list[str]:
    return page.locator(f"{table} tbody tr td:first-child").all_inner_texts()


# ---------------------------------------------------------------------------


def test_acknowledge_pick_pack_review(live_server, open_page, people, products):
    base = live_server.url
    tea, cup, rice = products["TEA-0250"], products["CUP-0500"], products["RICE-005"]
    stock(tea, 20)
    stock(cup, 10)
    # Rice is low: it shows on the dashboard's low-stock table.
    low = stock(rice, 3)
    StockItem.objects.filter(pk=low.pk).update(low_stock_threshold=5)
    order = confirmed_order(
        people["sales"],
        [(tea, 2), (cup, 1)],
        customer=CustomerFactory(name="Wang Xiaoming"),
        special_instructions="Fragile: wrap the cup separately.",
    )
    picker, reviewer = people["picker"], people["reviewer"]

    # The dashboard: the order waits to be acknowledged; rice is low.
    page = open_page(picker)
    expect(page).to_have_url(f"{base}{reverse('warehouse:dashboard')}")
    expect(page.locator("#content h1")).to_have_text("Warehouse dashboard")
    expect(page.locator("#queue-to_acknowledge tbody tr")).to_have_count(1)
    expect(page.locator(f"#queue-to_acknowledge a[href='{work_url(order)}']")).to_have_count(1)
    expect(page.locator("#queue-to_pick tbody")).to_contain_text("Nothing waiting here.")
    expect(page.locator("#low-stock tbody tr")).to_have_count(1)
    expect(page.locator("#low-stock tbody tr")).to_contain_text("RICE-005")
    assert_fits(page)
    shot(page, "warehouse-dashboard")

    # Acknowledge: who and when are recorded and the stock is reserved.
    page.locator(f"#queue-to_acknowledge a[href='{work_url(order)}']").click()
    stage = page.locator("#stage")
    expect(stage).to_have_attribute("data-stage", "acknowledge")
    expect(page.locator("#instructions")).to_contain_text("Fragile: wrap the cup separately.")
    shot(page, "warehouse-handoff")
    page.locator("#acknowledge").click()
    expect(page.locator(".messages .success")).to_have_text(
        "Acknowledged; the stock is reserved. Pick it now."
    )
    expect(stage).to_have_attribute("data-stage", "pick")
    expect(page.locator("#warehouse-clock")).to_contain_text("Zhao Qiang")
    # Lines in walking order: the cup's bin A-01-1 before the tea's B-02-3.
    assert bins_in(page, "#pick-table") == ["A-01-1", "B-02-3"]
    assert_fits(page)
    shot(page, "warehouse-acknowledge")
    fulfilment = Fulfilment.objects.get(order=order)
    assert fulfilment.acknowledged_by == picker
    assert fulfilment.acknowledged_at is not None
    assert {(r.stock_item.product.sku, r.quantity) for r in Reservation.objects.all()} == {
        ("TEA-0250", 2),
        ("CUP-0500", 1),
    }

    # A wrong SKU is refused with the reason, keeps what was typed, and changes nothing.
    with page.expect_response(re.compile(r"/scan/$")) as answer:
        scan(page, "RICE-005")
    assert answer.value.status == 400
    expect(page.locator(".messages .error")).to_have_text(
        f"RICE-005 is not on order {order.number}."
    )
    expect(page.locator("#scan-form input[name=sku]")).to_have_value("RICE-005")
    expect(stage).to_have_attribute("data-stage", "pick")
    expect(page.locator("#pick-table tr.done")).to_have_count(0)
    assert not Pick.objects.exists()

    # One line done: the cup is ticked off, the tea still to pick.
    scan(page, "CUP-0500")
    expect(page.locator(".messages .success")).to_have_text("1 × CUP-0500 picked.")
    expect(page.locator("#pick-table tr[data-sku='CUP-0500']")).to_have_class("done")
    expect(page.locator("#pick-table tr[data-sku='TEA-0250']")).not_to_have_class("done")
    expect(page.locator("#pick-table tr[data-sku='TEA-0250']")).to_have_attribute("data-left", "2")
    # After a scan the field is empty and ready for the next one.
    expect(page.locator("#scan-form input[name=sku]")).to_have_value("")
    expect(page.locator("#scan-form input[name=sku]")).to_be_focused()
    assert_fits(page)
    shot(page, "warehouse-pick")
    # The problem report of a line opens in place, with labelled fields.
    report = page.locator("#pick-table tr[data-sku='TEA-0250'] details")
    report.locator("summary").click()
    expect(report.get_by_label("Problem")).to_be_visible()
    expect(report.get_by_label("Units")).to_have_value("1")
    expect(report.get_by_label("Note")).to_be_visible()
    assert_fits(page)
    shot(page, "warehouse-report")
    report.locator("summary").click()
    expect(report.get_by_label("Problem")).to_be_hidden()

    # Too many units are refused; the right number finishes picking.
    scan(page, "TEA-0250", 3)
    expect(page.locator(".messages .error")).to_have_text("Only 2 more of TEA-0250 are needed.")
    scan(page, "tea-0250", 2)  # typed in lower case: still the same SKU
    expect(page.locator(".messages .success")).to_have_text(
        "Every line is picked: the order is ready to pack."
    )
    expect(stage).to_have_attribute("data-stage", "pack")
    expect(page.locator(".page-head h1 .badge")).to_have_text("Picked")
    order.refresh_from_db()
    assert order.status == Status.PICKED

    # Packing: one parcel, then packing is done.
    expect(page.locator("#finish-packing")).to_have_count(0)  # no parcel yet
    pack_one(page)
    expect(page.locator("#package-table tbody tr")).to_have_count(1)
    expect(page.locator("#package-table tbody tr")).to_contain_text("2.350")
    expect(page.locator("#package-table tbody tr")).to_contain_text("40 × 30 × 20")
    expect(page.locator("#packing-slip")).to_be_visible()
    expect(page.locator("#labels")).to_be_visible()
    assert_fits(page)
    shot(page, "warehouse-pack")
    page.locator("#finish-packing").click()
    expect(page.locator(".messages .success")).to_have_text(
        "Packed: a second person must now review it."
    )

    # Whoever picked may not review: a warning instead of the form, and a hand-made
    # post is refused as well.
    expect(stage).to_have_attribute("data-stage", "review")
    expect(page.locator("#picker-warning")).to_have_text(
        "You picked this order: a second person must review it."
    )
    expect(page.locator("#review-form")).to_have_count(0)
    assert_fits(page)
    shot(page, "warehouse-picker-refused")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        f"{base}{reverse('warehouse:review', args=[order.number])}",
        form={"csrfmiddlewaretoken": token, "result": "pass", "notes": ""},
        headers=ENGLISH,
    )
    assert response.status == 403
    assert not Review.objects.exists()

    # The second person finds a fault: failed, with the reason, back to picking.
    second = open_page(reviewer)
    expect(second.locator(f"#queue-to_review a[href='{work_url(order)}']")).to_have_count(1)
    second.locator(f"#queue-to_review a[href='{work_url(order)}']").click()
    expect(second.locator("#stage")).to_have_attribute("data-stage", "review")
    expect(second.locator("#picker-warning")).to_have_count(0)
    expect(second.locator("#review-table tbody tr")).to_have_count(2)
    # Failing needs a reason.
    second.get_by_label("Something is wrong").check()
    second.locator("#record-review").click()
    expect(second.locator("#review-form .errorlist")).to_have_text(
        "Say what is wrong: the picker needs the reason."
    )
    expect(second.get_by_label("What is wrong")).to_have_attribute("aria-invalid", "true")
    assert not Review.objects.exists()
    second.get_by_label("Something is wrong").check()
    second.get_by_label("What is wrong").fill("The cup is dented: take another one.")
    assert_fits(second)
    shot(second, "warehouse-review-fail")
    second.locator("#record-review").click()
    expect(second.locator(".messages .success")).to_have_text(
        "Review failed: the order is back in picking."
    )
    expect(second.locator("#stage")).to_have_attribute("data-stage", "pick")
    expect(second.locator("#review-list")).to_contain_text("Failed")
    expect(second.locator("#review-list")).to_contain_text("The cup is dented: take another one.")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert order.reviewed_at is None
    assert Fulfilment.objects.get(order=order).round == 2

    # The picker picks again (a new round: nothing counts as picked yet) and packs.
    page.reload()
    expect(stage).to_have_attribute("data-stage", "pick")
    expect(page.locator("#pick-table tr.done")).to_have_count(0)
    expect(page.locator("#review-list")).to_contain_text("The cup is dented: take another one.")
    scan(page, "CUP-0500")
    scan(page, "TEA-0250", 2)
    expect(stage).to_have_attribute("data-stage", "pack")
    pack_one(page, weight="2.4")
    page.locator("#finish-packing").click()
    expect(page.locator("#picker-warning")).to_be_visible()

    # ...and the second person passes it.
    second.reload()
    expect(second.locator("#stage")).to_have_attribute("data-stage", "review")
    second.get_by_label("Everything matches the order").check()
    assert_fits(second)
    shot(second, "warehouse-review")
    second.locator("#record-review").click()
    expect(second.locator(".messages .success")).to_have_text(
        "Review passed: the order is ready for logistics."
    )
    expect(second.locator("#stage")).to_have_attribute("data-stage", "done")
    expect(second.locator("#review-list li")).to_have_count(2)
    expect(second.locator("#review-list li").first).to_contain_text("Picking round 1")
    expect(second.locator("#review-list li").last).to_contain_text("Picking round 2")
    expect(second.locator("#review-list li").last).to_contain_text("Passed")
    expect(second.locator("#review-list li").last).to_contain_text("Qian Fang")
    shot(second, "warehouse-done")
    # It has left every warehouse queue.
    second.goto(f"{base}{reverse('warehouse:dashboard')}")
    for queue in ("to_acknowledge", "to_pick", "to_pack", "to_review", "backordered"):
        expect(second.locator(f"#queue-{queue} a[href='{work_url(order)}']")).to_have_count(0)

    order.refresh_from_db()
    assert order.status == Status.PICKED
    assert order.reviewed_at is not None
    reviews = [(r.round, r.passed, r.by, r.notes) for r in Review.objects.order_by("round")]
    assert reviews == [
        (1, False, reviewer, "The cup is dented: take another one."),
        (2, True, reviewer, ""),
    ]
    assert {(p.round, p.line.sku, p.quantity, p.by) for p in Pick.objects.all()} == {
        (1, "CUP-0500", 1, picker),
        (1, "TEA-0250", 2, picker),
        (2, "CUP-0500", 1, picker),
        (2, "TEA-0250", 2, picker),
    }
    assert list(Package.objects.filter(order=order).values_list("round", "weight_kg")) == [
        (1, Decimal("2.350")),
        (2, Decimal("2.400")),
    ]


def test_shortage_loop_to_sales_and_customer_and_back(live_server, open_page, people, products):
    base = live_server.url
    lamp, cup = products["LAMP-010"], products["CUP-0500"]
    stock(lamp, 1)
    stock(cup, 10)
    order = confirmed_order(
        people["sales"],
        [(lamp, 3), (cup, 1)],
        customer=CustomerFactory(name="Li Na", email="li.na@example.cn", language="en"),
    )
    new_date = timezone.localdate() + timedelta(days=12)

    # The warehouse acknowledges: not enough lamps, so the order is backordered.
    warehouse = open_page(people["picker"])
    warehouse.goto(f"{base}{work_url(order)}")
    warehouse.locator("#acknowledge").click()
    expect(warehouse.locator(".messages .warning")).to_have_text(
        "Short of stock: the order is backordered and Sales has been told."
    )
    expect(warehouse.locator("#stage")).to_have_attribute("data-stage", "backordered")
    expect(warehouse.locator(".page-head h1 .badge")).to_have_text("Backordered")
    shot(warehouse, "warehouse-backordered")
    order.refresh_from_db()
    assert order.status == Status.BACKORDERED
    assert not Reservation.objects.filter(released_at__isnull=True).exists()
    follow_up = FollowUp.objects.get(order=order, done_at__isnull=True)
    assert (follow_up.reason, follow_up.assignee) == (FollowUpReason.SHORTAGE, people["sales"])
    assert order.notifications.filter(
        kind=NotificationKind.SHORTAGE_ALERT, to="chen.jing@example.cn"
    ).exists()

    # Sales sees the shortage among its follow-ups and records the new date.
    sales = open_page(people["sales"])
    expect(sales).to_have_url(f"{base}{reverse('sales_dashboard')}")
    row = sales.locator("#follow-up-table tbody tr", has_text=order.number)
    expect(row).to_have_count(1)
    expect(row.locator(".badge.st-backordered")).to_have_text("Short of stock: agree a new date")
    row.get_by_role("link", name=order.number).click()
    expect(sales).to_have_url(f"{base}{order.get_absolute_url()}")
    card = sales.locator("#new-date")
    expect(card).to_contain_text("Short of stock")
    card.get_by_label("New delivery date").fill(new_date.isoformat())
    card.get_by_label("Agreed by").select_option("phone")
    card.get_by_label("What was agreed").fill("Called Li Na: fine to wait for the lamps.")
    sales.locator("#record-new-date").click()
    expect(sales.locator(".messages .success")).to_have_text(
        "New delivery date recorded; the customer is told by email."
    )
    shot(sales, "sales-new-date")
    order.refresh_from_db()
    assert order.promised_date == new_date
    promise = DeliveryPromise.objects.filter(order=order).latest("pk")
    assert (promise.date, promise.by) == (new_date, people["sales"])
    assert not FollowUp.objects.filter(order=order, done_at__isnull=True).exists()
    assert order.notifications.filter(kind=NotificationKind.NEW_DELIVERY_DATE).exists()
    sales.goto(f"{base}{reverse('sales_dashboard')}")
    expect(sales.locator("#follow-up-table tbody tr", has_text=order.number)).to_have_count(0)

    # The customer, on a phone and not signed in, sees the new date.
    phone = open_page(viewport=PHONE, phone=True)
    response = phone.goto(f"{base}{order.get_public_url()}")
    assert response is not None
    assert response.status == 200
    expect(phone.locator("#promised-date")).to_contain_text(new_date.isoformat())
    expect(phone.locator("#promised-date")).to_contain_text(
        "(some goods are on their way to our warehouse)"
    )
    expect(phone.locator("#public-timeline")).to_contain_text(
        f"New delivery date: {new_date.isoformat()}"
    )
    assert_fits(phone)
    shot(phone, "status-new-date-phone")

    # Goods arrive: received on the stock page, the order is served by itself.
    warehouse.goto(f"{base}{reverse('warehouse:stock')}")
    item = services.stock_item_for(lamp)
    row = warehouse.locator(f"#stock-{item.pk}")
    expect(row.locator("td").nth(6)).to_have_text("3")  # what backorders want
    row.get_by_label("Change").select_option("receive")
    row.get_by_label("Units").fill("5")
    row.get_by_label("Reason or delivery note").fill("Delivery note 4711")
    row.get_by_role("button", name="Save").click()
    expect(warehouse.locator(".messages .success")).to_have_text("5 × LAMP-010 received.")
    row = warehouse.locator(f"#stock-{item.pk}")
    # 6 on hand, 3 reserved for the order, 3 free, nobody waiting.
    expect(row.locator("td.num")).to_have_text(["6", "3", "3", ""])
    assert_fits(warehouse)
    shot(warehouse, "warehouse-stock")
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED
    assert {(r.stock_item.product.sku, r.quantity) for r in order.reservations.all()} >= {
        ("LAMP-010", 3),
        ("CUP-0500", 1),
    }

    # Back in the To pick queue, nobody having touched the order.
    warehouse.goto(f"{base}{reverse('warehouse:dashboard')}")
    expect(warehouse.locator(f"#queue-to_pick a[href='{work_url(order)}']")).to_have_count(1)
    expect(warehouse.locator(f"#queue-backordered a[href='{work_url(order)}']")).to_have_count(0)
    shot(warehouse, "warehouse-dashboard-served")
    warehouse.locator(f"#queue-to_pick a[href='{work_url(order)}']").click()
    expect(warehouse.locator("#stage")).to_have_attribute("data-stage", "pick")
    expect(warehouse.locator("#scan-form")).to_be_visible()


def test_picking_from_the_keyboard(live_server, open_page, people, products):
    tea, cup = products["TEA-0250"], products["CUP-0500"]
    stock(tea, 5)
    stock(cup, 5)
    order = confirmed_order(people["sales"], [(tea, 2), (cup, 1)])
    services.acknowledge_order(order.pk, by=people["picker"])

    page = open_page(people["picker"])
    page.goto(f"{live_server.url}{work_url(order)}")
    sku = page.locator("#scan-form input[name=sku]")
    # The SKU field has the focus as the page opens: a scanner types straight into it.
    expect(sku).to_be_focused()
    expect(page.locator("#scan-form input[name=quantity]")).to_have_value("1")

    # A scanner types the code and presses Enter: one unit each time.
    page.keyboard.type("CUP-0500")
    page.keyboard.press("Enter")
    expect(page.locator(".messages .success")).to_have_text("1 × CUP-0500 picked.")
    expect(page.locator("#pick-table tr[data-sku='CUP-0500']")).to_have_class("done")
    expect(sku).to_be_focused()
    for _ in range(2):
        page.keyboard.type("TEA-0250")
        page.keyboard.press("Enter")
        expect(page.locator(".messages li")).to_have_count(1)
    expect(page.locator(".messages .success")).to_have_text(
        "Every line is picked: the order is ready to pack."
    )
    expect(page.locator("#stage")).to_have_attribute("data-stage", "pack")
    assert sorted(Pick.objects.values_list("line__sku", "quantity")) == [
        ("CUP-0500", 1),
        ("TEA-0250", 1),
        ("TEA-0250", 1),
    ]
    order.refresh_from_db()
    assert order.status == Status.PICKED


def test_printable_pick_lists_in_bin_order(live_server, open_page, people, products):
    base = live_server.url
    tea, cup, lamp, rice = (
        products[sku] for sku in ("TEA-0250", "CUP-0500", "LAMP-010", "RICE-005")
    )
    for product in (tea, cup, lamp, rice):
        stock(product, 50)
    # Lines entered out of walking order; the rice has no bin.
    first = confirmed_order(
        people["sales"],
        [(rice, 1), (lamp, 1), (tea, 2), (cup, 4)],
        special_instructions="Deliver to the back door.",
    )
    second = confirmed_order(people["sales"], [(tea, 3), (lamp, 2)])
    third = confirmed_order(people["sales"], [(cup, 1)])  # not acknowledged: not on the list
    for order in (first, second):
        assert services.acknowledge_order(order.pk, by=people["picker"]) == []

    page = open_page(people["picker"])
    page.goto(f"{base}{work_url(first)}")
    # Bin order on the work page too.
    assert bins_in(page, "#pick-table") == ["A-01-1", "B-02-3", "C-05-2", "—"]
    page.locator("#print-pick-list").click()
    expect(page).to_have_url(f"{base}{reverse('warehouse:pick_list', args=[first.number])}")
    expect(page.locator("h1")).to_have_text(f"Pick list · order {first.number}")
    assert bins_in(page, "#pick-list") == ["A-01-1", "B-02-3", "C-05-2", "—"]
    expect(page.locator("#pick-list tbody tr td:nth-child(2)")).to_have_text(
        ["CUP-0500", "TEA-0250", "LAMP-010", "RICE-005"]
    )
    expect(page.locator("#pick-list tbody tr td:nth-child(4)")).to_have_text(["4", "2", "1", "1"])
    expect(page.locator("#content")).to_contain_text("Deliver to the back door.")
    assert_fits(page)
    shot(page, "pick-list")
    # Printed, the buttons and links are not on the paper.
    page.emulate_media(media="print")
    expect(page.locator(".no-print")).to_be_hidden()
    expect(page.locator("header")).to_be_hidden()
    shot(page, "pick-list-print")
    page.emulate_media(media="screen")

    page.goto(f"{base}{reverse('warehouse:dashboard')}")
    page.locator("#batch-pick-link").click()
    expect(page.locator("h1")).to_have_text("Batch pick list")
    assert bins_in(page, "#batch-pick-list") == ["A-01-1", "B-02-3", "C-05-2", "—"]
    rows = page.locator("#batch-pick-list tbody tr")
    expect(rows.locator("td:nth-child(2)")).to_have_text(
        ["CUP-0500", "TEA-0250", "LAMP-010", "RICE-005"]
    )
    # Each product once, with the total over both orders and how it splits.
    expect(rows.locator("td:nth-child(4)")).to_have_text(["4", "5", "3", "1"])
    expect(rows.nth(1).locator("td:nth-child(5)")).to_have_text(
        re.compile(rf"{first.number} × 2\s*{second.number} × 3")
    )
    expect(page.locator("#content")).not_to_contain_text(third.number)
    expect(page.locator("#content")).to_contain_text("2 orders")
    assert_fits(page)
    shot(page, "batch-pick-list")

    # The work page in Chinese, for a look at how the warehouse reads it.
    chinese = open_page(people["picker"], language="zh-hans")
    chinese.goto(f"{base}{work_url(first)}")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(chinese.locator("#stage")).to_have_attribute("data-stage", "pick")
    expect(chinese.locator("#stage-title")).not_to_have_text("Picking")  # translated
    assert_fits(chinese)
    shot(chinese, "warehouse-pick-zh")
