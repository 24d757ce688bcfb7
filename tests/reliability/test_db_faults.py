"""A request whose database connection dies answers 503 "please try again" (with
Retry-After), not 500, says what happened in the log, and the next request works.
The connection is killed for real (pg_terminate_backend) in the middle of the request,
after the session and the user were read, just before the page's own query."""

import logging

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.utils import translation

from o2d.middleware import RETRY_AFTER_SECONDS, DatabaseFaultMiddleware
from orders.roles import Role
from tests.factories import place

from .dbfaults import connection_killed_before, set_accepting_connections

TRY_AGAIN = "Please try again in a moment"


@pytest.fixture
def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.mark.django_db(transaction=True)
def test_connection_killed_mid_request_answers_503_and_the_next_request_works(
    client, users, caplog, needs_postgresql
):
    order = place()
    client.force_login(users[Role.SALES])
    assert client.get("/orders/").status_code == 200

    # The order list's query finds its connection killed, and the database refuses
    # new connections until the response is out: the 503 page must not need it.
    with (
        caplog.at_level(logging.WARNING, logger="o2d.middleware"),
        connection_killed_before(
            'FROM "orders_order"', then=lambda: set_accepting_connections(False)
        ) as killed,
    ):
        try:
            response = client.get("/orders/?status=placed", HTTP_ACCEPT_LANGUAGE="en")
        finally:
            set_accepting_connections(True)
    assert killed, "the page made no query on orders"

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert 'id="unavailable"' in page  # the page itself, not the plain-text fallback
    assert TRY_AGAIN in page
    assert 'href="/orders/?status=placed"' in page  # a GET can simply be repeated
    (record,) = [r for r in caplog.records if r.name == "o2d.middleware"]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert "GET /orders/" in message
    assert "terminat" in message  # PostgreSQL's "terminating connection ..."
    assert record.exc_info is None  # one line, no traceback

    response = client.get("/orders/")
    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_post_answers_503_without_a_repeat_link():
    request = RequestFactory().post("/order/", {"x": "1"})
    middleware = DatabaseFaultMiddleware(lambda request: None)
    # No LocaleMiddleware runs here: the page speaks the active language.
    with translation.override("en"):
        response = middleware.process_exception(request, OperationalError("server closed"))
    assert response.status_code == 503
    page = response.content.decode()
    assert TRY_AGAIN in page
    assert 'href="/order/"' not in page


def test_other_errors_are_left_to_the_500_page():
    request = RequestFactory().get("/orders/")
    middleware = DatabaseFaultMiddleware(lambda request: None)
    assert middleware.process_exception(request, ValueError("a bug")) is None
