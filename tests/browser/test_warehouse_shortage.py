"""The shortage loop in a real Chromium: from the warehouse to Sales, to the customer's
phone and back to the warehouse queue when goods arrive.

Each person works in a browser context of their own, signed in through the login
form. Screenshots go to artifacts/screenshots/warehouse-*.png, sales-new-date.png and
status-new-date-phone.png (git-ignored).
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import DeliveryPromise, FollowUp, FollowUpReason, NotificationKind, Status
from tests.browser.helpers import PHONE
from tests.browser.helpers import assert_no_sideways_scroll as assert_fits
from tests.browser.helpers import screenshot as shot
from tests.browser.warehouse_helpers import confirmed_order, stock, work_url
from tests.factories import CustomerFactory
from warehouse import services
from warehouse.models import Reservation

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
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
