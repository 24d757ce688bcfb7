"""End to end in a real Chromium: one order goes from placed to closed, each role
signing in through the login form. Sales and Finance click their own button on the
order page; the warehouse works on its own page (acknowledge, scan every SKU, pack)
and has a second warehouse user review the packed goods; Logistics ships on its
shipping page with the proposed carrier and records the carrier's "delivered" event
there. The customer confirms receipt on the status page on a phone before Finance
closes, and finally looks at the closed order's status page.

Also writes the Sales dashboard screenshot (artifacts/screenshots/dashboard.png); copy it to
docs/screenshot-dashboard.png when the README picture should change.
Screenshots of every step go to artifacts/screenshots/ (git-ignored).
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from feedback.models import Receipt, ReceiptMethod
from logistics.models import Shipment, ShipmentStatus
from orders import services
from orders.models import Order, Status
from tests.browser.helpers import ENGLISH, PHONE, SCREENSHOTS, log_in
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    carrier,
    make_user,
    order_in_status,
    place,
)
from warehouse.models import Package, Pick, Review
from warehouse.services import receive_goods, stock_item_for

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

DOCS_SCREENSHOT = SCREENSHOTS / "dashboard.png"

# Deterministic staff names, so the public page can be checked for their absence.
STAFF_NAMES = {
    "Sales": "陈静",
    "Warehouse": "赵强",
    "Logistics": "孙磊",
    "Finance": "周敏",
    "Manager": "吴刚",
}
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

# Who does what, in order: role, the dashboard queue the order waits in, another
# role's dashboard the user must not open, and the role's clicks as
# (action, buttons offered before the click, status after it). The warehouse and
# Logistics have no clicks on the order page: their queues lead to their own pages
# (see work_in_warehouse and work_in_logistics).
FLOW = [
    (
        "Sales",
        "to_confirm",
        "/warehouse/",
        [("confirm", {"confirm", "cancel"}, Status.CONFIRMED)],
    ),
    ("Warehouse", "to_acknowledge", "/sales/", None),
    ("Logistics", "to_ship", "/finance/", None),
    (
        "Finance",
        "to_close",
        "/logistics/",
        [("close", {"close"}, Status.CLOSED)],
    ),
]
# The buttons each role can ever get; everything else must never be offered to it.
ROLE_ACTIONS = {
    "Sales": {"confirm", "cancel"},
    "Warehouse": {"backorder", "release_backorder"},
    "Logistics": set(),
    "Finance": {"close"},
}
# Taken on the departments' own pages, never by a button on the order page.
OWN_PAGE_ACTIONS = {"pick", "repick", "ship", "deliver"}
ALL_ACTIONS = set().union(*ROLE_ACTIONS.values(), OWN_PAGE_ACTIONS)
CARRIER = "Test Express"


@pytest.fixture
def staff(users):
    for role, user in users.items():
        user.first_name = STAFF_NAMES[role]
        user.last_name = ""
        user.save(update_fields=["first_name", "last_name"])
    return users


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


def test_order_from_placed_to_closed(live_server, page: Page, open_page, staff):
    base = live_server.url
    shot = Screenshots(SCREENSHOTS)
    carrier()
    customer = CustomerFactory(name="王小明", phone="13912345678", email="wang.xm@example.cn")
    order = place(
        customer=customer,
        lines=[
            services.LineRequest(
                ProductFactory(sku="TEA-0250", name="西湖龙井 250g", unit_price=Decimal("168.00")),
                2,
            ),
            services.LineRequest(
                ProductFactory(
                    sku="CUP-0500", name="不锈钢保温杯 500ml", unit_price=Decimal("89.00")
                ),
                1,
            ),
        ],
        channel="phone",
        salesperson=staff["Sales"],
    )
    detail_url = order.get_absolute_url()
    order_status = Status.PLACED
    # The goods are on the shelf before the order reaches the warehouse.
    for line in order.lines.all():
        receive_goods(stock_item_for(line.product).pk, 10, by=None, reason="Opening stock")

    for role, queue, forbidden_dashboard, clicks in FLOW:
        user = staff[role]
        log_in(page, base, user)
        # Each role lands on its own dashboard, with the order waiting in its queue.
        expect(page).to_have_url(f"{base}{DASHBOARDS[role]}")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("header .userbox")).to_contain_text(STAFF_NAMES[role])
        shot(page, f"{role.lower()}-dashboard")
        if role == "Warehouse":
            # The warehouse's queue leads to its work page, not to the order page.
            work_in_warehouse(page, base, order, staff, shot)
            order_status = Status.PICKED
            clicks = []
        elif role == "Logistics":
            # So does Logistics' queue: to the shipping page.
            work_in_logistics(page, base, order, staff, shot)
            order_status = Status.DELIVERED
            clicks = []
        else:
            page.locator(f"#queue-{queue} a[href='{detail_url}']").click()
            expect(page).to_have_url(f"{base}{detail_url}")

        for action, offered, new_status in clicks:
            # Only this role's buttons for the current state are offered.
            assert offered_actions(page) == offered
            assert not offered_actions(page) & (ALL_ACTIONS - ROLE_ACTIONS[role])
            # The step clock runs while the order is open.
            expect(page.locator("#step-clock")).to_be_visible()
            expect(page.locator("#step-clock")).to_contain_text(STEP_NAMES[order_status])

            entries = page.locator("#timeline ol.timeline > li")
            before = entries.count()
            page.locator(f"button[data-action='{action}']").click()

            badge = page.locator(".page-head h1 .badge")
            expect(badge).to_have_class(re.compile(rf"\bst-{new_status}\b"))
            expect(badge).to_have_text(LABELS[new_status])
            expect(page.locator(".messages .success")).to_contain_text(order.number)
            expect(entries).to_have_count(before + 1)
            expect(entries.last).to_contain_text(LABELS[new_status])
            expect(entries.last).to_contain_text(STAFF_NAMES[role])
            shot(page, f"{role.lower()}-{action}")
            order_status = new_status

        # Whatever is offered now still belongs to this role only.
        assert not offered_actions(page) & (ALL_ACTIONS - ROLE_ACTIONS[role])
        if order_status == Status.CLOSED:
            # Closed: the clock has stopped, nobody has anything left to do.
            expect(page.locator("#step-clock")).to_have_count(0)
            assert offered_actions(page) == set()
            # Six steps on the main path, plus Sales' verification of the contact details,
            # the warehouse's hand-off, reservation, packing and review, the hand-over
            # to the carrier, the carrier's "delivered" event and the customer's receipt.
            timeline = page.locator("#timeline ol.timeline > li")
            expect(timeline).to_have_text(
                [
                    re.compile(r"^\s*Order placed"),
                    re.compile(r"^\s*Contact and address checked"),
                    re.compile(r"^\s*Confirmed"),
                    re.compile(r"^\s*The warehouse took over the order"),
                    re.compile(r"^\s*Stock reserved"),
                    re.compile(r"^\s*Picked"),
                    re.compile(r"^\s*Packed"),
                    re.compile(r"^\s*Review passed: ready for logistics"),
                    re.compile(rf"^\s*Handed to {CARRIER}, tracking number "),
                    re.compile(r"^\s*Shipped"),
                    re.compile(r"^\s*Parcel delivered · 上海市"),
                    re.compile(r"^\s*Delivered\s+Shipped → Delivered"),
                    re.compile(r"^\s*The customer confirmed receipt"),
                    re.compile(r"^\s*Closed"),
                ]
            )
            staff_html = page.content()

        if role == "Sales":
            # Sales cannot pick, not even by posting the warehouse's scan form by hand.
            token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
            response = page.request.post(
                f"{base}{reverse('warehouse:scan', args=[order.number])}",
                form={"csrfmiddlewaretoken": token, "sku": "TEA-0250", "quantity": "2"},
                headers=ENGLISH,
            )
            assert response.status == 403
            order.refresh_from_db()
            assert order.status == Status.CONFIRMED
            assert not Pick.objects.filter(order=order).exists()

        # Another role's dashboard is not in the menu, and opening it gives the 403 page.
        expect(page.locator(f"header nav a[href='{forbidden_dashboard}']")).to_have_count(0)
        response = page.goto(f"{base}{forbidden_dashboard}")
        assert response is not None
        assert response.status == 403
        expect(page.locator("#content h1")).to_have_text("Not allowed")
        shot(page, f"{role.lower()}-forbidden-{forbidden_dashboard.strip('/')}")

        log_out(page)
        if role == "Logistics":
            # Delivered: the customer confirms receipt before Finance closes.
            customer_confirms_receipt(open_page, base, order, shot)

    order.refresh_from_db()
    assert order.status == Status.CLOSED

    # The customer's status link, on a phone, in a fresh context (not signed in).
    public = open_page(viewport=PHONE, phone=True)
    response = public.goto(f"{base}{order.get_public_url()}")
    assert response is not None
    assert response.status == 200
    assert "noindex" in response.headers["x-robots-tag"]
    status_badge = public.locator("#current-status .badge")
    expect(status_badge).to_have_class(re.compile(r"\bst-closed\b"))
    expect(status_badge).to_have_text("Closed")
    history = public.locator("ol#public-timeline > li")
    # The main path, plus the warehouse's hand-off and packing (never the review),
    # the carrier and its events, and the customer's own receipt.
    expect(history).to_have_text(
        [
            re.compile(r"^\s*Order placed"),
            re.compile(r"^\s*Confirmed"),
            re.compile(r"^\s*The warehouse took over the order"),
            re.compile(r"^\s*Picked"),
            re.compile(r"^\s*Packed"),
            re.compile(rf"^\s*Handed to {CARRIER}, tracking number "),
            re.compile(r"^\s*Shipped"),
            re.compile(r"^\s*Parcel delivered · 上海市"),
            re.compile(r"^\s*Delivered\s*\d{4}-"),
            re.compile(r"^\s*The customer confirmed receipt"),
            re.compile(r"^\s*Closed"),
        ]
    )
    # The parcel stays on the page, delivered, with its tracking link.
    parcel = public.locator("#tracking li.shipment")
    expect(parcel).to_have_count(1)
    expect(parcel.locator(".badge")).to_have_text("Delivered")
    expect(parcel.locator(".track-link")).to_have_attribute(
        "href", Shipment.objects.get(order=order).tracking_link
    )
    expect(public.locator("#receipt-confirmed")).to_be_visible()
    html = public.content()
    customer_data = [
        customer.phone,
        customer.email,
        customer.name,  # greeted by a masked name only
        order.delivery_phone,
        order.delivery_street,
    ]
    staff_names = [user.get_full_name() for user in staff.values()] + [REVIEWER_NAME]
    usernames = [user.username for user in staff.values()] + [REVIEWER_USERNAME]
    leaked = [text for text in customer_data + staff_names + usernames if text in html]
    assert leaked == []
    # ...while the staff page, written the same way, does show them.
    actors = [staff[role].get_full_name() for role, *_ in FLOW] + [REVIEWER_NAME]
    assert all(text in staff_html for text in customer_data + actors)
    # Nothing sticks out sideways on a phone.
    assert public.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(public, "customer-public-status-phone")


# Realistic orders for the README screenshot, oldest first: customer, delivery address
# (city district street), goods, state, hours since the order entered that state.
# Only the placed and backordered ones are on the Sales dashboard; their clocks show
# on time, due soon (after 75% of 24 hours) and late.
DASHBOARD_ORDERS = [
    ("马超", "武汉市 江汉区 解放大道 50 号", "TOW-0003", 3, "shipped", 40),
    ("黄丽", "成都市 锦江区 春熙路 20 号", "RICE-005", 4, "placed", 30),
    ("刘洋", "广州市 天河区 体育西路 1 号", "TOW-0003", 10, "placed", 20),
    ("何军", "南京市 鼓楼区 中山路 18 号", "CUP-0500", 40, "backordered", 8),
    ("张伟", "杭州市 西湖区 文三路 90 号", "CUP-0500", 6, "placed", 5),
    ("王芳", "上海市 浦东新区 陆家嘴环路 9 号", "RICE-005", 2, "confirmed", 2),
    ("李娜", "北京市 朝阳区 建国路 88 号", "TEA-0250", 3, "placed", 0.3),
]
PRODUCTS = [
    ("TEA-0250", "西湖龙井 250g", "168.00"),
    ("CUP-0500", "不锈钢保温杯 500ml", "89.00"),
    ("TOW-0003", "竹纤维毛巾 三条装", "59.90"),
    ("RICE-005", "五常大米 5kg", "128.00"),
]


# The screenshot is taken at a fixed moment, so it only changes when the page does.
SCREENSHOT_TIME = datetime(2025, 6, 16, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_sales_dashboard_screenshot(live_server, page: Page, staff):
    products = {
        sku: ProductFactory(sku=sku, name=name, unit_price=Decimal(price))
        for sku, name, price in PRODUCTS
    }
    now = SCREENSHOT_TIME
    for i, (name, address, sku, quantity, state, hours) in enumerate(DASHBOARD_ORDERS):
        phone = f"1360000{i:04d}"
        city, district, street = address.split(" ", 2)
        delivery = services.DeliveryDetails(
            recipient=name, phone=phone, province=city, city=city, district=district, street=street
        )
        # Placed (and moved on) that many hours ago, so the clocks show every state.
        with time_machine.travel(now - timedelta(hours=hours), tick=False):
            order = order_in_status(
                state,
                by=staff["Manager"],
                customer=CustomerFactory(name=name, phone=phone),
                lines=[services.LineRequest(products[sku], quantity)],
                delivery=delivery,
                channel="online" if hours > 10 else "phone",
                salesperson=staff["Sales"],
            )
        assert order.status == state
    assert Order.objects.filter(status=Status.PLACED).count() == 4

    # The live server renders in this process, so it sees the frozen time too.
    with time_machine.travel(now, tick=False):
        log_in(page, live_server.url, staff["Sales"])
        expect(page).to_have_url(f"{live_server.url}/sales/")
        expect(page.locator("#queue-to_confirm tbody tr")).to_have_count(4)
        expect(page.locator("#queue-backordered tbody tr")).to_have_count(1)
        expect(page.locator("#queue-to_confirm .clock-late")).to_have_count(1)
        expect(page.locator("#queue-to_confirm .clock-due_soon")).to_have_count(1)
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOCS_SCREENSHOT)
        page.screenshot(path=SCREENSHOTS / "sales-dashboard-1280x900.png", full_page=True)
