"""The Sales dashboard in a real Chromium, with realistic orders whose clocks show on
time, due soon and late, at a fixed moment.

Writes the Sales dashboard screenshot (artifacts/screenshots/dashboard.png); copy it to
docs/screenshot-dashboard.png when the README picture should change.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from orders import services
from orders.models import Order, Status
from tests.browser.helpers import SCREENSHOTS, log_in
from tests.factories import CustomerFactory, ProductFactory, order_in_status

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]

DOCS_SCREENSHOT = SCREENSHOTS / "dashboard.png"


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
