import os
import tempfile
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
    """Fast password hashing, uploads in a temporary folder, and static files served
    unhashed (no collectstatic)."""
    with override_settings(
        # Uploaded files (invoices, documents, photos) go to a folder of the run's own.
        MEDIA_ROOT=tempfile.mkdtemp(prefix="o2d-test-media-"),
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


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or (
        "transactional_db" in fixtures or "live_server" in fixtures
    )


def pytest_collection_modifyitems(items):
    """Transactional tests (live_server, Celery processes, threads) flush the database
    afterwards, which also removes the rows that data migrations made (roles and their
    permissions, process steps, schedules, the main warehouse, ...). Every such test
    gets Django's serialized rollback: the test database's contents right after the
    migrations are serialized once when it is created, and loaded again before each
    transactional test. Whatever a new data migration adds is restored with the rest;
    no test has to know about it."""
    for item in items:
        if not _transactional(item):
            continue
        marker = item.get_closest_marker("django_db")
        kwargs = {**(marker.kwargs if marker else {}), "transaction": True}
        kwargs["serialized_rollback"] = True
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


# The serialized contents, by database alias, as Django made them when it created the
# test databases.
SERIALIZED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """Keep the contents that Django serialized (on the connection object it used)."""
    from django.db import connections

    for alias in connections:
        contents = getattr(connections[alias], "_test_serialized_contents", None)
        if contents is not None:
            SERIALIZED[alias] = contents


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    """Django keeps the serialized contents on the connection object, and finds its
    connections in an asgiref Local: once Playwright's sync API runs an event loop in
    this thread, the same alias gives another connection object, one without them, and
    a transactional test would flush the reference rows for good. Hand the contents to
    the connection of the moment before pytest-django sets up each test's database."""
    if fixturedef.argname != "_django_db_helper" or not SERIALIZED:
        return
    from django.db import connections

    for alias, contents in SERIALIZED.items():
        connection = connections[alias]
        if not hasattr(connection, "_test_serialized_contents"):
            connection._test_serialized_contents = contents


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
