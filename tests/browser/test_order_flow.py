"""End to end in a real Chromium: one order goes from placed to closed, each role
signing in through the login form and clicking its own button on the order page;
then the customer opens the public status link on a phone.

Also writes the Sales dashboard screenshot (artifacts/screenshots/dashboard.png); copy it to
docs/screenshot-dashboard.png when the README picture should change.
Screenshots of every step go to artifacts/screenshots/ (git-ignored).
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from orders import services
from orders.models import Order, Status
from tests.factories import CustomerFactory, ProductFactory, order_in_status, place

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(settings.BASE_DIR)
SCREENSHOTS = BASE_DIR / "artifacts" / "screenshots"
DOCS_SCREENSHOT = BASE_DIR / "artifacts" / "screenshots" / "dashboard.png"
PASSWORD = "pw-for-tests"
ENGLISH = {"Accept-Language": "en"}

# Deterministic staff names, so the public page can be checked for their absence.
STAFF_NAMES = {
    "Sales": "陈静",
    "Warehouse": "赵强",
    "Logistics": "孙磊",
    "Finance": "周敏",
    "Manager": "吴刚",
}
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
# (action, buttons offered before the click, status after it).
FLOW = [
    (
        "Sales",
        "to_confirm",
        "/warehouse/",
        [("confirm", {"confirm", "cancel"}, Status.CONFIRMED)],
    ),
    (
        "Warehouse",
        "to_pick",
        "/sales/",
        [("pick", {"pick", "backorder"}, Status.PICKED)],
    ),
    (
        "Logistics",
        "to_ship",
        "/finance/",
        [
            ("ship", {"ship"}, Status.SHIPPED),
            ("deliver", {"deliver"}, Status.DELIVERED),
        ],
    ),
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
    "Warehouse": {"pick", "backorder", "release_backorder"},
    "Logistics": {"ship", "deliver"},
    "Finance": {"close"},
}
ALL_ACTIONS = set().union(*ROLE_ACTIONS.values())


@pytest.fixture
def browser_context_args(browser_context_args):
    """Desktop size, and English for every text the assertions match."""
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "extra_http_headers": ENGLISH,
    }


@pytest.fixture
def staff(users):
    for role, user in users.items():
        user.first_name = STAFF_NAMES[role]
        user.last_name = ""
        user.save(update_fields=["first_name", "last_name"])
    return users


class Screenshots:
    """Numbered screenshots: 01-sales-dashboard.png, 02-sales-confirm.png, ..."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.n = 0

    def __call__(self, page: Page, name: str):
        self.n += 1
        page.screenshot(path=self.folder / f"{self.n:02d}-{name}.png", full_page=True)


def log_in(page: Page, base: str, user):
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("#content form button[type=submit]").click()


def log_out(page: Page):
    page.locator(f"header form[action='{reverse('logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + "$"))
    expect(page.locator("#id_username")).to_be_visible()


def offered_actions(page: Page) -> set[str]:
    return set(page.locator("[data-action]").evaluate_all("els => els.map(e => e.dataset.action)"))


def test_order_from_placed_to_closed(live_server, page: Page, browser, staff):
    base = live_server.url
    page.set_default_timeout(5_000)
    shot = Screenshots(SCREENSHOTS)
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

    for role, queue, forbidden_dashboard, clicks in FLOW:
        user = staff[role]
        log_in(page, base, user)
        # Each role lands on its own dashboard, with the order waiting in its queue.
        expect(page).to_have_url(f"{base}{DASHBOARDS[role]}")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("header .userbox")).to_contain_text(STAFF_NAMES[role])
        shot(page, f"{role.lower()}-dashboard")
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
            # Six steps on the main path, plus Sales' verification of the contact details.
            expect(page.locator("#timeline ol.timeline > li")).to_have_count(7)
            staff_html = page.content()

        if role == "Sales":
            # Sales cannot pick, not even by posting the form by hand.
            token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
            response = page.request.post(
                f"{base}{reverse('order_action', args=[order.number])}",
                form={
                    "csrfmiddlewaretoken": token,
                    "action": "pick",
                    "expected_status": Status.CONFIRMED,
                },
                headers=ENGLISH,
            )
            assert response.status == 403
            order.refresh_from_db()
            assert order.status == Status.CONFIRMED

        # Another role's dashboard is not in the menu, and opening it gives the 403 page.
        expect(page.locator(f"header nav a[href='{forbidden_dashboard}']")).to_have_count(0)
        response = page.goto(f"{base}{forbidden_dashboard}")
        assert response is not None
        assert response.status == 403
        expect(page.locator("#content h1")).to_have_text("Not allowed")
        shot(page, f"{role.lower()}-forbidden-{forbidden_dashboard.strip('/')}")

        log_out(page)

    order.refresh_from_db()
    assert order.status == Status.CLOSED

    # The customer's status link, on a phone, in a fresh context (not signed in).
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        extra_http_headers=ENGLISH,
    )
    try:
        public = phone.new_page()
        public.set_default_timeout(5_000)
        response = public.goto(f"{base}{order.get_public_url()}")
        assert response is not None
        assert response.status == 200
        assert "noindex" in response.headers["x-robots-tag"]
        status_badge = public.locator("#current-status .badge")
        expect(status_badge).to_have_class(re.compile(r"\bst-closed\b"))
        expect(status_badge).to_have_text("Closed")
        history = public.locator("ol#public-timeline > li")
        expect(history).to_have_count(6)
        expect(history).to_contain_text(
            ["Order placed", "Confirmed", "Picked", "Shipped", "Delivered", "Closed"]
        )
        html = public.content()
        customer_data = [
            customer.phone,
            customer.email,
            customer.name,  # greeted by a masked name only
            order.delivery_phone,
            order.delivery_street,
        ]
        staff_names = [user.get_full_name() for user in staff.values()]
        usernames = [user.username for user in staff.values()]
        leaked = [text for text in customer_data + staff_names + usernames if text in html]
        assert leaked == []
        # ...while the staff page, written the same way, does show them.
        actors = [staff[role].get_full_name() for role, *_ in FLOW]
        assert all(text in staff_html for text in customer_data + actors)
        # Nothing sticks out sideways on a phone.
        assert public.evaluate("document.documentElement.scrollWidth") <= 390
        shot(public, "customer-public-status-phone")
    finally:
        phone.close()


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

    page.set_default_timeout(5_000)
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
