"""Faults that are not the request's fault answer as such."""

import logging
from contextlib import suppress

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# Seconds a client should wait before trying again (a reconnect is usually instant;
# a database restart or failover takes a few seconds).
RETRY_AFTER_SECONDS = 5


class DatabaseFaultMiddleware:
    """A request whose database connection failed (killed, the server restarted, a
    failover) answers 503 with a page asking to try again and a ``Retry-After``
    header, not a 500: nothing was wrong with the request, and the forms are safe to
    send again (the order form carries an idempotency key). The fault is logged in one
    line with the path; the broken connection is closed so the next request opens a
    new one.

    The page is rendered without context processors: they read the user, the session
    and the user's roles from the database, which may still be out of reach.
    Only the view and its template rendering are covered (``process_exception``); a
    failure inside another middleware still ends in the 500 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error(
            "database connection failed during %s %s: %s",
            request.method,
            request.path,
            " ".join(str(exception).split()) or type(exception).__name__,
        )
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:
                with suppress(Exception):
                    conn.close()
        return self.unavailable(request)

    def unavailable(self, request):
        try:
            context = {
                "request": request,
                "csrf_token": get_token(request),
                "retry_url": request.get_full_path() if request.method in ("GET", "HEAD") else "",
            }
            response = HttpResponse(render_to_string("503.html", context), status=503)
        except Exception:
            logger.exception("could not render the 503 page")
            response = HttpResponse(
                gettext("The service is briefly unavailable. Please try again in a moment."),
                content_type="text/plain; charset=utf-8",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response
