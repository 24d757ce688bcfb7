"""The printable pick lists in a real Chromium: one order's and a batch's, in bin order.

Each person works in a browser context of their own, signed in through the login
form. Screenshots go to artifacts/screenshots/pick-list.png, pick-list-print.png,
batch-pick-list.png and warehouse-pick-zh.png (git-ignored).
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.helpers import assert_no_sideways_scroll as assert_fits
from tests.browser.helpers import screenshot as shot
from tests.browser.warehouse_helpers import bins_in, confirmed_order, stock, work_url
from warehouse import services

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data (conftest restores the migration's reference data).
    pytest.mark.django_db(transaction=True),
]


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
