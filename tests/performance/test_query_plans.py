"""The queries that must stay fast at a million orders, checked by their shape and
their plans (PostgreSQL): the open sets are read through their partial indexes, and
no page joins a table that multiplies the rows it then groups again.

The plans are asked for with sequential scans discouraged: on a test database's few
rows the planner would rightly scan, and what is checked is that an index *can*
serve the query (its columns and its condition match).
"""

import pytest
from django.db import connection
from django.utils import timezone

from feedback import selectors as feedback

pytestmark = pytest.mark.django_db


def plan(queryset, *, ordered=False) -> str:
    """``ordered``: sorting is discouraged too, so an index that reads the rows in the
    query's order is preferred to any other index and a sort (the row counts of the
    tables, which earlier tests leave behind, then do not decide)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL enable_sort = {'off' if ordered else 'on'}")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def sql(queryset) -> str:
    return str(queryset.query).upper()


def _awaiting_page():
    from django.db.models import OuterRef, Subquery

    from feedback.models import CaseStatus, ProblemCase

    last = (
        ProblemCase.objects.filter(order=OuterRef("pk"), status=CaseStatus.RESOLVED)
        .order_by("-resolved_at")
        .values("resolved_at")[:1]
    )
    return feedback.awaiting_receipt().annotate(last=Subquery(last)).order_by("step_started_at")


def test_orders_awaiting_receipt_join_nothing_and_group_nothing():
    """Receipts and open cases are NOT EXISTS checks, not joins that fan out and must
    be grouped again: a page of delivered orders reads a page of rows."""
    for queryset in (feedback.awaiting_receipt(), _awaiting_page()):
        text = sql(queryset)
        assert "JOIN" not in text
        assert "GROUP BY" not in text
        assert text.count("NOT (EXISTS") == 2


def test_receipts_and_open_cases_are_probed_by_their_unique_keys():
    text = plan(feedback.awaiting_receipt())
    assert "feedback_receipt_order_id_key" in text
    assert "one_open_case_per_order" in text


def test_the_hourly_cutoff_seeks_the_resolved_cases_by_order():
    """The automatic confirmation's "no case resolved within the limit" (and the
    page's last resolved case, which the planner may also read backwards through
    problemcase_recently_resolved) seek the resolved cases of each order."""
    overdue = feedback.awaiting_receipt(timezone.now(), limit=feedback.DEFAULT_RECEIPT_LIMIT)
    assert "problemcase_resolved_by_order" in plan(overdue)


def test_open_cases_and_recently_resolved_read_their_partial_indexes():
    from feedback.models import CaseStatus, ProblemCase

    open_cases = ProblemCase.objects.filter(status=CaseStatus.OPEN).order_by("opened_at", "pk")
    assert "problemcase_open" in plan(open_cases)
    resolved = ProblemCase.objects.filter(status=CaseStatus.RESOLVED).order_by(
        "-resolved_at", "-pk"
    )
    assert "problemcase_recently_resolved" in plan(resolved[:20])


def test_orders_to_pick_walk_the_unpacked_fulfilments_index():
    """The batch pick list's orders: confirmed orders with an unpacked fulfilment, in
    hand-off order, found through the partial index, not by reading every fulfilment."""
    from orders.models import Order
    from warehouse.models import Fulfilment
    from warehouse.selectors import TO_PICK

    assert "FULFILMENT" in sql(Order.objects.filter(TO_PICK))
    assert '"PACKED_AT" IS NULL' in sql(Order.objects.filter(TO_PICK))
    # The fulfilments waiting, in hand-off order, straight from the partial index
    # (asked alone: with other tests' rows left in the statistics, the planner may
    # rightly prefer another way into a join on a test database's few rows).
    waiting = Fulfilment.objects.filter(packed_at__isnull=True).order_by("acknowledged_at", "order")
    assert "fulfilment_unpacked" in plan(waiting, ordered=True)
