"""The deadline sweep: late steps, follow-ups and their escalation."""

from django.db import transaction
from django.utils import timezone

from .. import timeline
from ..clock import annotate_due_at, clock_for, steps_by_code
from ..models import (
    OPEN_STATUSES,
    FollowUp,
    NotificationKind,
    Order,
    Status,
)
from .notifications import notify_customer


def mark_overdue_steps(now=None) -> int:
    """The deadline sweep: record, once per step, every open order whose current step
    has passed its target time. Returns how many orders were newly marked.

    Each order is claimed with a conditional UPDATE (``step_overdue_at IS NULL`` and
    the state unchanged), so overlapping sweeps mark and record each order once.
    """
    now = now or timezone.now()
    steps = steps_by_code()
    marked = 0
    # Only orders already past their deadline, found by the database.
    candidates = annotate_due_at(
        Order.objects.filter(step_overdue_at__isnull=True, status__in=OPEN_STATUSES), steps
    ).filter(due_at__lte=now)
    fields = ("pk", "status", "channel", "step_started_at", "salesperson_id")
    for order in candidates.only(*fields).iterator():
        clock = clock_for(order, steps, now)
        if clock is None or clock.state != "late":
            continue
        with transaction.atomic():
            claimed = Order.objects.filter(
                pk=order.pk,
                status=order.status,
                step_started_at=order.step_started_at,
                step_overdue_at__isnull=True,
            ).update(step_overdue_at=now)
            if not claimed:
                continue
            timeline.record(
                order.pk,
                "step_overdue",
                data={"step": clock.step.code, "status": order.status},
                created_at=now,
            )
            _open_follow_up(order, clock, now)
            marked += 1
    return marked


def _open_follow_up(order, clock, now):
    """The step is late: give its owner a follow-up task, and for an unconfirmed order
    send the customer one reminder. Runs inside the sweep's claim of the order."""
    within = clock.step.follow_up_within
    if within is None:
        return
    follow_up, created = FollowUp.objects.get_or_create(
        order_id=order.pk,
        step=clock.step.code,
        step_started_at=order.step_started_at,
        defaults={"assignee_id": order.salesperson_id, "due_at": now + within, "created_at": now},
    )
    if not created:
        return
    timeline.record(
        order.pk,
        "follow_up_created",
        data={"step": clock.step.code, "due_at": follow_up.due_at.isoformat()},
        created_at=now,
    )
    if order.status == Status.PLACED:
        notify_customer(
            Order.objects.select_related("customer").get(pk=order.pk),
            NotificationKind.CONFIRMATION_REMINDER,
        )


def escalate_overdue_follow_ups(now=None) -> int:
    """Follow-ups past their due time are escalated to the managers, once each
    (claimed with a conditional UPDATE). Returns how many were escalated."""
    now = now or timezone.now()
    escalated = 0
    overdue = FollowUp.objects.filter(
        done_at__isnull=True, escalated_at__isnull=True, due_at__lte=now
    ).values_list("pk", "order_id", "step")
    for pk, order_id, step in overdue:
        with transaction.atomic():
            claimed = FollowUp.objects.filter(
                pk=pk, done_at__isnull=True, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed:
                timeline.record(
                    order_id,
                    "follow_up_escalated",
                    data={"step": step},
                    created_at=now,
                )
                escalated += 1
    return escalated
