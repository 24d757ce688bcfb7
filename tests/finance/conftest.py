"""Fixtures for step 7: orders whose receipt is confirmed (their closing request is
open), and helpers that drive the closing request through the services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.services import confirm_receipt
from finance import services as finance
from finance.models import PaymentMethod
from orders.models import Status
from orders.roles import Role
from tests.factories import settle

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def received(order_in, users):
    """A delivered order of the Sales user whose receipt Sales confirmed by phone."""
    order = order_in(Status.DELIVERED, salesperson=users[Role.SALES])
    confirm_receipt(order.pk, how="phone", by=users[Role.SALES], note="ok")
    order.refresh_from_db()
    return order


@pytest.fixture
def in_review(received, users):
    """``received``, paid and invoiced, submitted by Sales and acknowledged by Finance."""
    settle(received, by=users[Role.FINANCE])
    finance.submit_request(received.pk, by=users[Role.SALES])
    finance.acknowledge_request(received.pk, by=users[Role.FINANCE])
    return received


def pay(order, amount, *, by, key, days_ago=0):
    method = PaymentMethod.objects.get(code="bank_transfer")
    return finance.record_payment(
        order.pk,
        finance.MoneyMovement(
            amount=amount,
            happened_on=timezone.localdate() - timedelta(days=days_ago),
            method_id=method.pk,
        ),
        by=by,
        key=key,
    )
