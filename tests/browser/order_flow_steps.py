"""The steps of the end-to-end order flow (test_order_flow.py) on the departments' own
pages: the warehouse's (work_in_warehouse), Logistics' (work_in_logistics) and the
customer's receipt on a phone (customer_confirms_receipt); numbered screenshots,
signing out, and the buttons an order page offers.
"""

import re

from django.urls import reverse
from playwright.sync_api import Page, expect

from feedback.models import Receipt, ReceiptMethod
from logistics.models import Shipment, ShipmentStatus
from orders.models import Order, Status
from tests.browser.helpers import PHONE, STAFF_NAMES, log_in
from tests.factories import make_user
from warehouse.models import Package, Pick, Review

# The second warehouse user, who reviews what the first one picked and packed.
REVIEWER_NAME = "钱芳"
REVIEWER_USERNAME = "reviewer-user"
LABELS = {
    Status.PLACED: "Placed",
    Status.CONFIRMED: "Confirmed",
    Status.PICKED: "Picked",
    Status.SHIPPED: "Shipped",
    Status.DELIVERED: "Delivered",
    Status.CLOSED: "Closed",
}
# The process step whose clock runs in each open state (orders.models.STEP_FOR_STATUS).
STEP_NAMES = {
    Status.PLACED: "Order confirmation",
    Status.CONFIRMED: "Order processing",
    Status.PICKED: "Review and shipping",
    Status.SHIPPED: "Delivery tracking",
    Status.DELIVERED: "Order closing",
}
DASHBOARDS = {
    "Sales": "/sales/",
    "Warehouse": "/warehouse/",
    "Logistics": "/logistics/",
    "Finance": "/finance/",
}
CARRIER = "Test Express"


class Screenshots:
    """Numbered screenshots: 01-sales-dashboard.png, 02-sales-confirm.png, ..."""

    def __init__(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.n = 0

    def __call__(self, page: Page, name: str):
        self.n += 1
        page.screenshot(path=self.folder / f"{self.n:02d}-{name}.png", full_page=True)


def log_out(page: Page):
    page.locator(f"header form[action='{reverse('logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + "$"))
    expect(page.locator("#id_username")).to_be_visible()


def offered_actions(page: Page) -> set[str]:
    return set(page.locator("[data-action]").evaluate_all("els => els.map(e => e.dataset.action)"))


def work_in_warehouse(page: Page, base: str, order: Order, staff, shot):
    """The warehouse's part, through its own pages. The first warehouse user (signed in,
    on the warehouse dashboard) acknowledges the order, scans every line's SKU, enters
    one package and finishes packing; a second warehouse user reviews and passes it.
    Ends signed in as the reviewer, on the order page."""
    picker = staff["Warehouse"]
    reviewer = make_user("Warehouse", username=REVIEWER_USERNAME, first_name=REVIEWER_NAME)
    work_url = reverse("warehouse:order", args=[order.number])
    stage = page.locator("#stage")
    badge = page.locator(".page-head h1 .badge")

    page.locator(f"#queue-to_acknowledge a[href='{work_url}']").click()
    expect(page).to_have_url(f"{base}{work_url}")
    expect(stage).to_have_attribute("data-stage", "acknowledge")
    page.locator("#acknowledge").click()
    expect(page.locator(".messages .success")).to_contain_text("the stock is reserved")
    expect(stage).to_have_attribute("data-stage", "pick")
    shot(page, "warehouse-acknowledge")

    lines = list(order.lines.order_by("pk"))
    for n, line in enumerate(lines, start=1):
        scan = page.locator("#scan-form")
        scan.get_by_label("Scan or type the SKU").fill(line.sku)
        scan.get_by_label("Quantity").fill(str(line.quantity))
        page.locator("#confirm-pick").click()
        if n < len(lines):
            expect(page.locator(".messages .success")).to_have_text(
                f"{line.quantity} × {line.sku} picked."
            )
            expect(page.locator(f"#pick-table tr[data-sku='{line.sku}']")).to_have_class("done")
            expect(badge).to_have_text(LABELS[Status.CONFIRMED])
    expect(page.locator(".messages .success")).to_have_text(
        "Every line is picked: the order is ready to pack."
    )
    expect(badge).to_have_text(LABELS[Status.PICKED])
    expect(stage).to_have_attribute("data-stage", "pack")
    shot(page, "warehouse-picked")

    form = page.locator("#package-form")
    form.locator("input[name=weight_kg]").fill("1.8")
    form.locator("input[name=length_cm]").fill("40")
    form.locator("input[name=width_cm]").fill("30")
    form.locator("input[name=height_cm]").fill("20")
    page.locator("#add-package").click()
    expect(page.locator(".messages .success")).to_have_text("Package added.")
    expect(page.locator("#package-table tbody tr")).to_have_count(1)
    expect(page.locator("#package-table tbody tr")).to_contain_text("40 × 30 × 20")
    page.locator("#finish-packing").click()
    expect(stage).to_have_attribute("data-stage", "review")
    # Whoever picked may not review: no form for them, a warning instead.
    expect(page.locator("#picker-warning")).to_be_visible()
    expect(page.locator("#review-form")).to_have_count(0)
    shot(page, "warehouse-packed")
    log_out(page)

    log_in(page, base, reviewer)
    expect(page).to_have_url(f"{base}{DASHBOARDS['Warehouse']}")
    expect(page.locator("header .userbox")).to_contain_text(REVIEWER_NAME)
    page.locator(f"#queue-to_review a[href='{work_url}']").click()
    expect(stage).to_have_attribute("data-stage", "review")
    expect(page.locator("#picker-warning")).to_have_count(0)
    page.locator("#review-form input[name=result][value=pass]").check()
    page.locator("#record-review").click()
    expect(page.locator(".messages .success")).to_have_text(
        "Review passed: the order is ready for logistics."
    )
    expect(stage).to_have_attribute("data-stage", "done")
    expect(page.locator("#review-list")).to_contain_text(REVIEWER_NAME)
    shot(page, "warehouse-reviewed")

    order.refresh_from_db()
    assert order.status == Status.PICKED
    assert order.reviewed_at is not None
    assert {(p.line.sku, p.quantity, p.by) for p in Pick.objects.filter(order=order)} == {
        (line.sku, line.quantity, picker) for line in lines
    }
    assert Package.objects.filter(order=order).count() == 1
    review = Review.objects.get(order=order)
    assert (review.passed, review.by) == (True, reviewer)

    # On the order page the warehouse's work is on the timeline, each with its person;
    # the warehouse has no button left there (picking has its own page).
    page.locator(f"#content a[href='{order.get_absolute_url()}']").first.click()
    expect(page).to_have_url(f"{base}{order.get_absolute_url()}")
    expect(badge).to_have_text(LABELS[Status.PICKED])
    expect(page.locator("#step-clock")).to_contain_text(STEP_NAMES[Status.PICKED])
    assert offered_actions(page) == set()
    timeline = page.locator("#timeline ol.timeline > li")
    for text, who in [
        ("The warehouse took over the order", STAFF_NAMES["Warehouse"]),
        ("Packed", STAFF_NAMES["Warehouse"]),
        ("Review passed: ready for logistics", REVIEWER_NAME),
    ]:
        expect(timeline.filter(has_text=text).filter(has_text=who)).to_have_count(1)
    expect(timeline.filter(has_text="Confirmed → Picked")).to_contain_text(STAFF_NAMES["Warehouse"])


def work_in_logistics(page: Page, base: str, order: Order, staff, shot):
    """Logistics' part, on its shipping page: ship every package with the proposed
    carrier (no reason needed), then record the carrier's "delivered" event, which
    delivers the order. Ends signed in as Logistics, on the order page, where Logistics
    has no transition button (shipping and delivery are not buttons there)."""
    ship_url = reverse("logistics:order", args=[order.number])
    badge = page.locator(".page-head h1 .badge")
    page.locator(f"#queue-to_ship a[href='{ship_url}']").click()
    expect(page).to_have_url(f"{base}{ship_url}")
    expect(badge).to_have_text(LABELS[Status.PICKED])

    # The proposal is the first row and the form's default; every package is ticked.
    proposed = page.locator("#carrier-options tbody tr").first
    expect(proposed).to_contain_text("Proposed")
    expect(proposed).to_contain_text(CARRIER)
    form = page.locator("#ship-form")
    expect(form.get_by_label("Carrier and service")).to_have_value(
        proposed.get_attribute("data-service")
    )
    packages = form.locator("input[name=packages]")
    expect(packages).to_have_count(1)
    expect(packages).to_be_checked()
    shot(page, "logistics-ship")
    page.locator("#ship-button").click()

    shipment = Shipment.objects.get(order=order)
    expect(page.locator(".messages .success")).to_have_text(
        f"Shipped with {CARRIER}, tracking number {shipment.tracking_number}. "
        "The customer has the link."
    )
    expect(badge).to_have_text(LABELS[Status.SHIPPED])
    expect(page.locator("#ship-form")).to_have_count(0)
    card = page.locator(f"#shipment-{shipment.pk}")
    expect(card.locator("h2")).to_contain_text(shipment.tracking_number)
    expect(card.locator("ol.timeline > li")).to_have_text(["No tracking event yet."])
    shot(page, "logistics-shipped")

    # The carrier said it was delivered (by phone, say): Logistics enters the event.
    card.locator("summary", has_text="Record a tracking event").click()
    event_form = card.locator("form")
    event_form.get_by_label("What happened").select_option("delivered")
    event_form.get_by_label("Where").fill("上海市")
    shot(page, "logistics-record-event")
    event_form.get_by_role("button", name="Record").click()
    expect(page.locator(".messages .success")).to_have_text("Tracking event recorded.")
    expect(badge).to_have_text(LABELS[Status.DELIVERED])
    expect(card.locator("ol.timeline > li")).to_have_count(1)
    expect(card.locator("ol.timeline > li")).to_contain_text("Delivered · 上海市")
    expect(card.locator("ol.timeline > li")).to_contain_text(STAFF_NAMES["Logistics"])
    # Delivered: nothing more to record.
    expect(card.locator("summary", has_text="Record a tracking event")).to_have_count(0)
    shot(page, "logistics-delivered")
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert shipment.shipped_by == staff["Logistics"]

    page.locator(f"#content a[href='{order.get_absolute_url()}']").first.click()
    expect(page).to_have_url(f"{base}{order.get_absolute_url()}")
    expect(badge).to_have_text(LABELS[Status.DELIVERED])
    expect(page.locator("#step-clock")).to_contain_text(STEP_NAMES[Status.DELIVERED])
    assert offered_actions(page) == set()
    timeline = page.locator("#timeline ol.timeline > li")
    tracking = f"Handed to {CARRIER}, tracking number {shipment.tracking_number}"
    for text, who in [
        (tracking, STAFF_NAMES["Logistics"]),
        ("Parcel delivered · 上海市", STAFF_NAMES["Logistics"]),
    ]:
        expect(timeline.filter(has_text=text).filter(has_text=who)).to_have_count(1)
    expect(timeline.filter(has_text="Picked → Shipped")).to_contain_text(STAFF_NAMES["Logistics"])
    # The carrier's word delivers the order, not a person's button.
    expect(timeline.filter(has_text="Shipped → Delivered")).to_contain_text("System")
    shot(page, "logistics-order-page")


def customer_confirms_receipt(open_page, base: str, order: Order, shot):
    """The customer, on a phone, says the goods arrived (before Finance closes)."""
    public = open_page(viewport=PHONE, phone=True)
    public.goto(f"{base}{order.get_public_url()}")
    expect(public.locator("#current-status .badge")).to_have_text("Delivered")
    public.locator("#confirm-receipt").click()
    expect(public.locator("#receipt-confirmed")).to_be_visible()
    expect(public.locator("#confirm-receipt")).to_have_count(0)
    shot(public, "customer-receipt-phone")
    public.context.close()
    receipt = Receipt.objects.get(order=order)
    assert (receipt.how, receipt.by) == (ReceiptMethod.CUSTOMER, None)
