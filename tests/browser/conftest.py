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
"""

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import DESKTOP, ENGLISH, LOCALE, PHONE, TIMEOUT, log_in


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
