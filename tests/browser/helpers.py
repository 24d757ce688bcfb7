"""What the browser tests share besides fixtures (those are in conftest.py): the sizes,
the language, the timeout, the staff's names, signing in through the login form,
screenshots, and the check that nothing sticks out sideways."""

from pathlib import Path

from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page

# Screenshots go here (git-ignored).
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# Every user from tests.factories has this password.
PASSWORD = "pw-for-tests"
# English for every text the assertions match.
ENGLISH = {"Accept-Language": "en"}
LOCALE = "en-US"
# How long a page action waits (ms) before the test fails.
TIMEOUT = 5_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Deterministic staff names, so the public page can be checked for their absence.
STAFF_NAMES = {
    "Sales": "陈静",
    "Warehouse": "赵强",
    "Logistics": "孙磊",
    "Finance": "周敏",
    "Manager": "吴刚",
}


def log_in(page: Page, base: str, user):
    """Sign in through the login form (does not wait for the next page)."""
    page.goto(f"{base}{reverse('login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("#content form button[type=submit]").click()


def screenshot(page: Page, name: str, *, full_page: bool = True):
    """artifacts/screenshots/<name> (".png" is added when ``name`` has no suffix)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = name if name.endswith(".png") else f"{name}.png"
    page.screenshot(path=SCREENSHOTS / name, full_page=full_page)


def assert_no_sideways_scroll(page: Page, max_width: int | None = None):
    """Nothing sticks out to the right: the page never scrolls sideways (and, with
    ``max_width``, the window is no wider than that: a phone's layout viewport grows
    with content that is too wide)."""
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{page.url}: {scroll_width}px wide in {inner_width}px"
    if max_width is not None:
        assert inner_width <= max_width, f"{page.url}: window {inner_width}px > {max_width}px"


def assert_fits_phone(page: Page):
    """No sideways scrolling on a phone-size screen."""
    assert_no_sideways_scroll(page, PHONE["width"])
