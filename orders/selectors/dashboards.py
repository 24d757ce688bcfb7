"""What the dashboards read: the queues with their clocks, the manager's counts and
late orders, the confirmation queues' filters and the follow-ups."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from ..clock import (
    annotate_due_at,
    attach_clocks,
    deadline_reached,
    step_for_status,
    steps_by_code,
)
from ..models import OPEN_STATUSES, Order, Status


@dataclass
class Queue:
    key: str
    title: str
    statuses: list
    orders: list
    count: int
    late: int
    due_soon: int
    link: str = ""  # the URL name each order links to; the order page by default


@dataclass(frozen=True)
class QueueSpec:
    """What a dashboard queue holds: orders in ``statuses`` matching ``where``."""

    key: str
    title: str
    statuses: list
    where: Q | None = None
    link: str = ""

    @property
    def filter(self) -> Q:
        query = Q(status__in=self.statuses)
        return query & self.where if self.where is not None else query


QUEUE_SIZE = 25
# What a queue's row shows (orders/_queue_table.html) and its clock needs: a dashboard
# builds a hundred rows, and whole orders with their customers cost twice as much.
QUEUE_FIELDS = (
    "id",
    "number",
    "status",
    "channel",
    "placed_at",
    "step_started_at",
    "contact_name",
    "delivery_city",
    "total",
    "currency",
)


def queues(specs, *, steps=None, now=None, limit=QUEUE_SIZE) -> list[Queue]:
    """The dashboard's queues, each with its most urgent orders (deadline first) and
    their clocks. One query counts every queue (total, late, due soon) over the open
    orders' status index, and one per queue lists its first ``limit`` orders."""
    steps = steps_by_code() if steps is None else steps
    now = now or timezone.now()
    if not specs:
        return []
    statuses = sorted({status for spec in specs for status in spec.statuses})
    late = deadline_reached(steps, now, statuses)
    soon = deadline_reached(steps, now, statuses, warning=True) & ~late
    aggregates = {}
    for i, spec in enumerate(specs):
        aggregates[f"n{i}"] = Count("pk", filter=spec.filter)
        aggregates[f"late{i}"] = Count("pk", filter=spec.filter & late)
        aggregates[f"soon{i}"] = Count("pk", filter=spec.filter & soon)
    counts = Order.objects.filter(status__in=statuses).aggregate(**aggregates)
    result = []
    for i, spec in enumerate(specs):
        orders = []
        if counts[f"n{i}"]:
            rows = Order.objects.filter(spec.filter).only(*QUEUE_FIELDS)
            orders = list(_most_urgent_first(rows, spec.statuses, steps)[:limit])
            attach_clocks(orders, steps, now)
        result.append(
            Queue(
                spec.key,
                spec.title,
                list(spec.statuses),
                orders,
                counts[f"n{i}"],
                counts[f"late{i}"],
                counts[f"soon{i}"],
                spec.link,
            )
        )
    return result


def _most_urgent_first(rows, statuses, steps):
    """``rows`` by deadline (step start + the step's target), then by age. For one
    state whose step has a single target (no channel's own), the deadline order is the
    step start's, which the (status, step_started_at) index reads in order: the first
    page needs no sort of every waiting order."""
    if len(statuses) == 1:
        step = step_for_status(statuses[0], steps)
        if step is not None and step.target is not None and not step.channel_targets.all():
            return rows.order_by("step_started_at", "placed_at")
    return annotate_due_at(rows, steps).order_by("due_at", "placed_at")


def queue(
    key, title, statuses, *, where=None, steps=None, now=None, limit=QUEUE_SIZE, link=""
) -> Queue:
    """One dashboard queue (see ``queues``, which counts several in one query)."""
    spec = QueueSpec(key, title, list(statuses), where, link)
    return queues([spec], steps=steps, now=now, limit=limit)[0]


# The manager's overview counts finished orders over this many recent days: an
# all-time count of closed orders would read most of the table on every refresh.
FINISHED_COUNT_DAYS = 30


def status_counts(now=None) -> dict[str, int]:
    """Orders per status: every open order, and the orders closed or cancelled that
    were placed in the last FINISHED_COUNT_DAYS days. Two index range reads: the open
    states are a small part of the table, the finished ones are bounded by date."""
    now = now or timezone.now()
    counts = {s: 0 for s in Status.values}
    finished = [s for s in Status.values if s not in OPEN_STATUSES]
    open_rows = Order.objects.filter(status__in=OPEN_STATUSES).values("status")
    recent_rows = Order.objects.filter(
        status__in=finished, placed_at__gte=now - timedelta(days=FINISHED_COUNT_DAYS)
    ).values("status")
    for rows in (open_rows, recent_rows):
        # COUNT(*), not COUNT(id): the (status, placed_at) index alone answers it.
        counts.update({row["status"]: row["n"] for row in rows.annotate(n=Count("*"))})
    return counts


def late_orders(*, steps=None, now=None, limit=QUEUE_SIZE):
    """Open orders whose current step has passed its target, the latest first."""
    steps = steps_by_code() if steps is None else steps
    now = now or timezone.now()
    qs = annotate_due_at(Order.objects.filter(status__in=OPEN_STATUSES), steps)
    orders = list(qs.filter(due_at__lt=now).only(*QUEUE_FIELDS).order_by("due_at")[:limit])
    return attach_clocks(orders, steps, now)


VERIFIED = Q(contact_verified_at__isnull=False, address_verified_at__isnull=False)


def no_answer_filter(steps, now):
    """Placed orders past the confirmation step's final limit (Q), or None."""
    step = steps.get("confirmation")
    if step is None or step.give_up_after is None:
        return None
    return Q(step_started_at__lte=now - step.give_up_after)


def open_follow_ups(user, *, now=None, limit=QUEUE_SIZE):
    """Open follow-ups for ``user`` (assigned to them, or to nobody), most urgent first."""
    from ..models import FollowUp

    now = now or timezone.now()
    qs = (
        FollowUp.objects.filter(done_at__isnull=True)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .select_related("order__customer", "assignee")
        .order_by("due_at")
    )
    items = list(qs[:limit])
    for item in items:
        item.overdue = item.due_at <= now
    return items


def escalated_follow_ups(limit=QUEUE_SIZE):
    from ..models import FollowUp

    return list(
        FollowUp.objects.filter(done_at__isnull=True, escalated_at__isnull=False)
        .select_related("order__customer", "assignee")
        .order_by("due_at")[:limit]
    )
