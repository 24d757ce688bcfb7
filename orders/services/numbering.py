"""Order numbers."""

from django.db import connection
from django.utils import timezone

from ..models import (
    OrderSequence,
)


def next_order_number(when=None) -> str:
    """Return the next order number for the local day of ``when``: ``YYYYMMDD-NNNN``.

    Runs inside the caller's transaction, as its last write: one upsert creates or
    increments the day's counter and returns it. Its row lock serialises concurrent
    callers only until they commit, so numbers are unique and without gaps while the
    rest of each order is written in parallel.
    """
    day = timezone.localdate(when or timezone.now())
    table = connection.ops.quote_name(OrderSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - a model's table
            "ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last".format(
                table=table
            ),
            [day],
        )
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}-{last:04d}"
