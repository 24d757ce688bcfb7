"""The warehouse in a real Chromium: an order acknowledged, picked by scanning, packed
and reviewed by a second person (with a failed review sending it back to picking);
and picking from the keyboard alone. The shortage loop is in test_warehouse_shortage.py,
the printable pick lists in test_pick_lists.py.

Each person works in a browser context of their own, signed in through the login
form. Screenshots go to artifacts/screenshots/warehouse-*.png (git-ignored).
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from orders.models import Status
from tests.browser.helpers import ENGLISH
from tests.browser.helpers import assert_no_sideways_scroll as assert_fits
from tests.browser.helpers import screenshot as shot
from tests.browser.warehouse_helpers import bins_in, confirmed_order, scan, stock, work_url
from tests.factories import CustomerFactory
from warehouse import services
from warehouse.models import Fulfilment, Package, Pick, Reservation, Review, StockItem

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]


def pack_one(page: Page, weight="2.35", size=("40", "30", "20")):
    form = page.locator("#package-form")
    form.get_by_label("Weight (kg)").fill(weight)
    form.get_by_label("Length (cm)").fill(size[0])
    form.get_by_label("Width (cm)").fill(size[1])
    form.get_by_label("Height (cm)").fill(size[2])
    page.locator("#add-package").click()
    expect(page.locator(".messages .success")).to_have_text("Package added.")


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
