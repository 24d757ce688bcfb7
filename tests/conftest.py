import os

import pytest
from django.test import override_settings

from tests.factories import make_user, order_in_status

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _plain_static_storage():
    """Serve static files unhashed in tests, so no collectstatic run is needed."""
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        yield


@pytest.fixture
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
