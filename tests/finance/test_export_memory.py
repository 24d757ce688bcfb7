"""A year of ledger rows leaves for the accounting system without loading into
memory: the export streams 100,000 rows at a flat, small peak."""

import tracemalloc
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance.models import ChargeKind, EntryKind, LedgerEntry
from orders.models import Status
from orders.roles import Role

pytestmark = pytest.mark.django_db

ROWS = 100_000


def test_a_100k_row_ledger_export_streams_in_constant_memory(client, order_in, users):
    order = order_in(Status.CONFIRMED)
    now = timezone.now()
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(
                order=order,
                kind=EntryKind.CHARGE,
                charge_kind=ChargeKind.ADJUSTMENT,
                amount=Decimal("0.01"),
                currency="CNY",
                happened_on=now.date(),
                reason=f"row {i}",
                recorded_at=now,
                submission_key=f"bulk-{i}",
            )
            for i in range(ROWS)
        ),
        batch_size=5000,
    )
    client.force_login(users[Role.FINANCE])
    today = timezone.localdate().isoformat()
    response = client.get(reverse("finance:export_ledger"), {"start": today, "end": today})
    assert response.status_code == 200

    tracemalloc.start()
    lines = size = 0
    last = b""
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
        last = chunk
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert lines == 1 + ROWS + 1  # the header, the rows, the goods charge
    assert size > ROWS * 40
    assert b"row " in last
    # The rows' text alone is several MB; holding them (or their model instances, about
    # 1 KB each) would peak far above this.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
