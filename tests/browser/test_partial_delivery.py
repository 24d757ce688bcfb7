"""In Chromium: Sales records that the customer of a backordered order takes the goods
in stock first, and the warehouse's queue gets the order back at once."""

import pytest
from playwright.sync_api import Page, expect

from orders import services
from orders.models import Status
from orders.roles import Role
from tests.browser.helpers import log_in, screenshot
from tests.factories import ProductFactory, place, promise_date
from warehouse import services as warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sales_records_a_partial_delivery_and_the_warehouse_picks_what_it_has(
    live_server, page: Page, users
):
    tea, lamp = ProductFactory(sku="TEA-B"), ProductFactory(sku="LAMP-B")
    warehouse.receive_goods(warehouse.stock_item_for(tea).pk, 5, by=None)
    warehouse.stock_item_for(lamp)
    order = place(lines=[services.LineRequest(tea, 2), services.LineRequest(lamp, 1)])
    services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    warehouse.acknowledge_order(order.pk, by=users[Role.WAREHOUSE])

    log_in(page, live_server.url, users[Role.SALES])
    page.goto(f"{live_server.url}{order.get_absolute_url()}")
    page.get_by_text("Customer takes what is in stock first").click()
    page.fill("#partial-note", "Customer wants the tea now, the lamp later.")
    screenshot(page, "sales-partial-agreement.png")
    page.click("#agree-partial")
    expect(page.locator(".messages")).to_contain_text("the warehouse ships what it has now")
    order.refresh_from_db()
    assert order.partial_agreed_at is not None
    assert order.status == Status.CONFIRMED  # served after commit: the tea is here

    page.context.clear_cookies()
    log_in(page, live_server.url, users[Role.WAREHOUSE])
    page.goto(f"{live_server.url}/warehouse/orders/{order.number}/")
    rows = page.locator("#pick-table tbody tr")
    expect(rows.filter(has_text="TEA-B")).to_contain_text("2")
    lamp_row = rows.filter(has_text="LAMP-B")
    expect(lamp_row.locator("td.num").first).to_have_text("0")
    expect(lamp_row).to_contain_text("Later: waits for stock")
    screenshot(page, "warehouse-partial-pick.png")
