import importlib
import os

import pytest
from django.test import override_settings

from tests.factories import make_user, order_in_status

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
