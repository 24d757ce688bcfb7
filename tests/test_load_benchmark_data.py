"""load_benchmark_data: its guards, and the data it writes (a small run on the test
database, which is not named *bench*: the loading function is called with the name
guard off, everything else as the command runs it)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from o2d.benchmark_data import ddl, load
from o2d.benchmark_data.loader import loaded_tables
from orders.models import Customer, Order, OrderEvent, OrderLine, Product, Status
from tests.factories import place

pytestmark = pytest.mark.django_db


def _row_counts():
    return {
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_refuses_with_debug_false(settings):
    settings.DEBUG = False
    before = _row_counts()
    with pytest.raises(CommandError, match="DEBUG=False"):
        call_command("load_benchmark_data", "--orders", "10")
    assert _row_counts() == before


def test_refuses_a_database_not_named_bench(settings):
    settings.DEBUG = True
    assert "bench" not in connection.settings_dict["NAME"]
    before = _row_counts()
    with pytest.raises(CommandError, match='contains "bench"'):
        call_command("load_benchmark_data", "--orders", "10")
    assert _row_counts() == before


def test_refuses_other_databases_than_postgresql(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(connection, "vendor", "sqlite")
    before = _row_counts()
    with pytest.raises(CommandError, match="PostgreSQL"):
        load(orders_count=10, require_bench_name=False, log=lambda line: None)
    monkeypatch.undo()
    assert _row_counts() == before


def _structure():
    with connection.cursor() as cursor:
        return ddl.snapshot(cursor, loaded_tables())


@pytest.fixture
def loaded(settings):
    """300 orders over ten days (so that every state has some), written as the command
    writes them."""
    settings.DEBUG = True
    structure = _structure()
    inserted = load(
        orders_count=300, days=10, seed=7, require_bench_name=False, log=lambda line: None
    )
    return structure, inserted


def test_orders_in_every_state_each_with_lines_and_events(loaded):
    structure, inserted = loaded
    assert inserted["orders_order"] == Order.objects.count() == 300
    assert set(Order.objects.values_list("status", flat=True)) == set(Status.values)
    assert not Order.objects.filter(lines__isnull=True).exists()
    assert not Order.objects.filter(events__isnull=True).exists()
    # The keys, indexes and foreign keys dropped for the load are all back.
    # (Index definitions are compared by name: PostgreSQL words a partial index's
    # condition differently once it has parsed its own wording again.)
    after = _structure()
    assert sorted(after.keys) == sorted(structure.keys)
    assert sorted(after.foreign_keys) == sorted(structure.foreign_keys)
    assert sorted(name for name, _ in after.indexes) == sorted(
        name for name, _ in structure.indexes
    )


def test_loaded_fields_agree_with_the_status(loaded):
    shipped = [Status.SHIPPED, Status.DELIVERED, Status.CLOSED]
    lines = OrderLine.objects.select_related("order")
    for line in lines:
        expected = line.quantity if line.order.status in shipped else 0
        assert line.shipped_quantity == expected, (line.order.status, line.pk)
    now = timezone.now()
    numbers = set()
    for order in Order.objects.all():
        assert order.placed_at <= order.step_started_at <= now
        assert re.fullmatch(r"\d{8}-\d{4}", order.number)
        assert re.fullmatch(r"[A-Za-z0-9_\-]{32}", order.public_token)
        assert order.contact_phone and order.delivery_street
        numbers.add(order.number)
        last = order.events.order_by("created_at", "pk").last()
        if order.status != Status.PLACED:
            transitions = order.events.filter(kind="transition").order_by("created_at", "pk")
            assert transitions.last().to_status == order.status
        assert last.created_at <= now
    assert len(numbers) == 300
    picked = Order.objects.filter(status__in=[Status.PICKED, *shipped])
    assert not picked.filter(fulfilment__isnull=True).exists()
    assert not Order.objects.filter(status__in=shipped, shipments__isnull=True).exists()


def test_the_app_writes_new_rows_after_loading(loaded, order_in, users):
    """Sequences and day counters continue after the loaded rows: new orders are placed
    and driven to the end through the services (timeline, emails, warehouse, logistics,
    receipt rows)."""
    new = place()
    assert not Order.objects.exclude(pk=new.pk).filter(number=new.number).exists()
    closed = order_in(Status.CLOSED)
    assert closed.status == Status.CLOSED
    assert OrderEvent.objects.filter(order=closed).count() >= 6


def test_pages_of_loaded_orders_answer(loaded, client, users):
    client.force_login(users["Manager"])
    assert client.get(reverse("order_list")).status_code == 200
    for status in (Status.CONFIRMED, Status.SHIPPED, Status.CLOSED):
        order = Order.objects.filter(status=status).first()
        assert client.get(order.get_absolute_url()).status_code == 200
        client.logout()
        assert client.get(order.get_public_url()).status_code == 200
        client.force_login(users["Manager"])
