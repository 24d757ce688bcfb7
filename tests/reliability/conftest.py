"""Fixtures of the form fuzzing (test_fuzz_*.py): the fuzzer, signing a role in, and
the orders in the states that the forms of more than one module act on.
"""

import pytest

from orders.models import Status
from orders.roles import Role
from tests.factories import ProductFactory, make_user, stock_for

from .fuzz import Fuzzer


@pytest.fixture
def fuzzer(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("O2D_ONLINE_ORDER_RATE", "O2D_LOOKUP_RATE", "O2D_RECEIPT_RATE"):
        setattr(settings, name, "100000/s")
    return Fuzzer(client, settings.MEDIA_ROOT)


@pytest.fixture
def as_role(client, users):
    """as_role("Sales") signs that role's user in (or the given user)."""

    def sign_in(role):
        user = users[role] if isinstance(role, str) else role
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def admin_user(db):
    return make_user(None, username="fuzz-admin", is_superuser=True, is_staff=True)


# ---------------------------------------------------------------------------
# Orders in the states the forms act on


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def placed(order_in):
    return order_in(Status.PLACED)


@pytest.fixture
def confirmed(order_in):
    return order_in(Status.CONFIRMED)


@pytest.fixture
def backordered(order_in):
    return order_in(Status.BACKORDERED)


@pytest.fixture
def delivered(order_in, users):
    return order_in(Status.DELIVERED, salesperson=users[Role.SALES])


@pytest.fixture
def stock_item(product):
    from warehouse.services import stock_item_for

    return stock_item_for(product)


@pytest.fixture
def acknowledged(confirmed, users):
    """A confirmed order whose stock is reserved, ready to pick."""
    from warehouse import services as warehouse

    stock_for(confirmed, extra=5)
    warehouse.acknowledge_order(confirmed.pk, by=users[Role.WAREHOUSE])
    return confirmed
