import importlib
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from tests.factories import make_user, order_in_status

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# O2D_TEST_CLOCK runs the whole session under a travelled clock, so that a test which
# mixes a UTC timestamp with the business's Asia/Shanghai date fails at any hour, not
# only after 16:00 UTC. "HH:MM" is that time today in the business's zone (bin/test
# --travelled runs 00:30 and 23:30); a full ISO datetime is taken as it is.
TEST_CLOCK = os.environ.get("O2D_TEST_CLOCK", "")


def travelled_clock(value: str) -> datetime:
    zone = ZoneInfo(os.environ.get("TIME_ZONE", "Asia/Shanghai"))
    if len(value) <= 5:
        hours, minutes = (int(part) for part in value.split(":"))
        today = datetime.now(zone).date()
        return datetime.combine(today, datetime.min.time(), zone) + timedelta(
            hours=hours, minutes=minutes
        )
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def pytest_configure(config):
    if TEST_CLOCK:
        # tick=True: time goes on from there, as it does for a real server.
        time_machine.travel(travelled_clock(TEST_CLOCK), tick=True).start()


def pytest_report_header(config):
    if TEST_CLOCK:
        moment = travelled_clock(TEST_CLOCK)
        return f"travelled clock: {moment.isoformat()} ({moment.astimezone(ZoneInfo('UTC'))} UTC)"
    return None


@pytest.fixture(autouse=True, scope="session")
def _test_settings():
    """Fast password hashing, and static files served unhashed (no collectstatic)."""
    with override_settings(
        # Password hashing at production strength would dominate the suite's time.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate limits live in the cache; every test starts with none used."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush the database afterwards, which also removes the rows
    the data migration made (roles, process steps, the sweep schedule). Put them back
    before each transactional test, with the migration's own functions."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "live_server" in request.fixturenames
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    data = importlib.import_module("orders.migrations.0002_roles_and_process")
    data.create_roles(apps, None)
    data.seed_process(apps, None)
    data.schedule_sweep(apps, None)
    follow_ups = importlib.import_module("orders.migrations.0007_follow_ups")
    follow_ups.confirmation_follow_up(apps, None)
    follow_ups.manager_permissions(apps, None)
    stock = importlib.import_module("warehouse.migrations.0002_main_warehouse")
    stock.main_warehouse(apps, None)
    stock.permissions(apps, None)
    receipts = importlib.import_module("feedback.migrations.0002_schedule_receipts")
    receipts.schedule_receipts(apps, None)


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


@pytest.fixture
def users(db):
    """One user per role: users["Sales"], users["Warehouse"], ..., users["Manager"]."""
    from orders.roles import Role

    return {role: make_user(role) for role in Role.values}


@pytest.fixture
def order_in(db, users):
    """order_in("shipped") -> an order driven to that state through the services."""

    def build(status, **kwargs):
        return order_in_status(status, by=users["Manager"], **kwargs)

    return build


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
