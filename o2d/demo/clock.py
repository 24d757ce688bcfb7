"""The demo's history: services run with the clock set back."""

from contextlib import contextmanager
from unittest import mock


@contextmanager
def clock_at(moment):
    """Run services as if it were ``moment`` (demo history only)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
