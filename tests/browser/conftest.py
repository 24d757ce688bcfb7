"""Fixtures of every browser test (Playwright driving Debian's Chromium against
live_server); plain helpers and sizes are in helpers.py.

- ``browser``: Debian's Chromium, shared by the session; a test fails when a page
  breaks the Content-Security-Policy.
- ``page``: pytest-playwright's page in a desktop context (1280 by 900) in English,
  with the short TIMEOUT.
- ``phone_page``: a page in a fresh phone-size context (390 by 844, touch), in English,
  not signed in.
- ``open_page(user=None, *, language="en", viewport=DESKTOP, phone=False)``: a page in
  a fresh context of its own, signed in as ``user`` through the login form (None: not
  signed in), for tests where several people work at once.
- ``staff``: the users of every role (``users``), named after STAFF_NAMES.
- ``people``, ``products``: the warehouse tests' Sales user, picker and reviewer, and
  the products of warehouse_helpers.PRODUCTS with a stock row in their bins.
"""

import os
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import DESKTOP, ENGLISH, LOCALE, PHONE, STAFF_NAMES, TIMEOUT, log_in
from tests.browser.warehouse_helpers import PRODUCTS
from tests.factories import ProductFactory, make_user
from warehouse import services
from warehouse.models import Bin


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's Chromium; it never downloads a browser of its own."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    }


CSP_VIOLATIONS: list[str] = []


@pytest.fixture(scope="session")
def browser(browser):
    """Every page of every browser context reports to CSP_VIOLATIONS when Chromium says
    that it broke the Content-Security-Policy (an inline style or script, a resource
    from elsewhere); the test that opened it then fails (below)."""
    new_context = browser.new_context

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)

        def watch(message):
            if "Content Security Policy" in message.text:
                CSP_VIOLATIONS.append(f"{message.page.url if message.page else ''}: {message.text}")

        context.on("console", watch)
        return context

    browser.new_context = watched_context
    return browser


@pytest.fixture(autouse=True)
def _no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "\n".join(CSP_VIOLATIONS)


@pytest.fixture
def browser_context_args(browser_context_args):
    """Desktop size, and English for every text the assertions match."""
    return {
        **browser_context_args,
        "viewport": DESKTOP,
        "locale": LOCALE,
        "extra_http_headers": ENGLISH,
    }


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT)
    return page


@pytest.fixture
def open_page(browser: Browser, live_server):
    """open_page(user) -> a page in a fresh context, signed in as ``user`` (or not
    signed in with None); ``language``, ``viewport`` and ``phone`` change the defaults."""
    contexts = []

    def open_(user=None, *, language="en", viewport=DESKTOP, phone=False) -> Page:
        context = browser.new_context(
            viewport=viewport,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            locale=LOCALE if language == "en" else language,
            extra_http_headers={"Accept-Language": language},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        if user is not None:
            log_in(page, live_server.url, user)
            expect(page.locator("header .userbox")).to_contain_text(user.get_full_name())
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(open_page) -> Page:
    """A page in a fresh phone-size context (not signed in), in English."""
    return open_page(viewport=PHONE, phone=True)


@pytest.fixture
def staff(users):
    for role, user in users.items():
        user.first_name = STAFF_NAMES[role]
        user.last_name = ""
        user.save(update_fields=["first_name", "last_name"])
    return users


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
