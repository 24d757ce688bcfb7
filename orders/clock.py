"""The clock of an order's current process step: the one deadline mechanism.

An order's step starts when it enters its state (``Order.step_started_at``); the
step's target time comes from the process definition (``ProcessStep.target``).
Pages, dashboards and the deadline sweep all read deadlines from here, and later
work (follow-ups, hand-offs, late shipments, surveys) builds on it too.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import STEP_FOR_STATUS, ProcessStep, StepChannelTarget


class ClockState(models.TextChoices):
    ON_TIME = "on_time", _("On time")
    DUE_SOON = "due_soon", _("Due soon")
    LATE = "late", _("Late")


@dataclass(frozen=True)
class StepClock:
    step: ProcessStep
    target: timedelta
    started_at: datetime
    due_at: datetime
    state: str
    now: datetime

    @property
    def remaining(self) -> timedelta:
        return self.due_at - self.now

    @property
    def elapsed(self) -> timedelta:
        return self.now - self.started_at

    @property
    def state_label(self) -> str:
        return ClockState(self.state).label

    @property
    def percent_used(self) -> int:
        target = self.target.total_seconds()
        return min(100, max(0, round(100 * self.elapsed.total_seconds() / target)))


def steps_by_code() -> dict[str, ProcessStep]:
    """The process steps with their per-channel targets, in one query (every page
    with a clock reads them): the steps joined to their targets, which are put where
    ``prefetch_related`` would put them, so ``step.channel_targets.all()`` reads no
    more."""
    steps: dict[int, ProcessStep] = {}
    targets: dict[int, list[StepChannelTarget]] = {}
    rows = ProcessStep.objects.annotate(
        override_pk=F("channel_targets__pk"),
        override_channel=F("channel_targets__channel"),
        override_target=F("channel_targets__target"),
    ).order_by("position", "override_pk")
    for row in rows:
        step = steps.setdefault(row.pk, row)
        found = targets.setdefault(row.pk, [])
        if row.override_pk is not None:
            found.append(
                StepChannelTarget(
                    pk=row.override_pk,
                    step=step,
                    channel=row.override_channel,
                    target=row.override_target,
                )
            )
    for pk, step in steps.items():
        cached = StepChannelTarget.objects.filter(step=step)  # never run
        cached._result_cache = targets[pk]
        cached._prefetch_done = True
        step._prefetched_objects_cache = {"channel_targets": cached}
    return {step.code: step for step in steps.values()}


def step_for_status(status: str, steps: dict[str, ProcessStep] | None = None):
    code = STEP_FOR_STATUS.get(status)
    if code is None:
        return None
    steps = steps_by_code() if steps is None else steps
    return steps.get(code)


def clock_state(step: ProcessStep, target, started_at: datetime, now: datetime) -> str:
    elapsed = now - started_at
    if elapsed >= target:
        return ClockState.LATE
    if elapsed >= target * step.warning_percent / 100:
        return ClockState.DUE_SOON
    return ClockState.ON_TIME


def clock_for(order, steps: dict[str, ProcessStep] | None = None, now=None) -> StepClock | None:
    """The clock of ``order``'s current step, or None when the step has no target."""
    step = step_for_status(order.status, steps)
    target = step.target_for(order.channel) if step is not None else None
    if target is None:
        return None
    now = now or timezone.now()
    return StepClock(
        step=step,
        target=target,
        started_at=order.step_started_at,
        due_at=order.step_started_at + target,
        state=clock_state(step, target, order.step_started_at, now),
        now=now,
    )


def _deadline_case(steps, fraction):
    def deadline(step, target):
        return ExpressionWrapper(
            F("step_started_at") + Value(fraction(step) * target),
            output_field=models.DateTimeField(),
        )

    whens = []
    for status, code in STEP_FOR_STATUS.items():
        step = steps.get(code)
        if step is None:
            continue
        # Channel overrides first: the first matching When wins.
        for override in step.channel_targets.all():
            whens.append(
                When(status=status, channel=override.channel, then=deadline(step, override.target))
            )
        if step.target is not None:
            whens.append(When(status=status, then=deadline(step, step.target)))
    return Case(*whens, default=Value(None), output_field=models.DateTimeField())


def deadline_reached(steps, now, statuses, *, warning: bool = False) -> Q:
    """Orders in ``statuses`` whose step's deadline (or, with ``warning``, its "due
    soon" mark) has come by ``now``, as plain comparisons of ``step_started_at`` with a
    time per state and channel: cheap to build and to count, and read in the
    (status, step_started_at) index, unlike a comparison with ``annotate_due_at``'s CASE."""

    def passed(step, target):
        fraction = step.warning_percent / 100 if warning else 1
        return Q(step_started_at__lte=now - fraction * target)

    reached = Q(pk__in=[])
    for status in statuses:
        step = steps.get(STEP_FOR_STATUS.get(status))
        if step is None:
            continue
        overridden = []
        for override in step.channel_targets.all():
            overridden.append(override.channel)
            reached |= Q(status=status, channel=override.channel) & passed(step, override.target)
        if step.target is not None:
            reached |= Q(status=status) & ~Q(channel__in=overridden) & passed(step, step.target)
    return reached


def annotate_due_at(queryset, steps: dict[str, ProcessStep] | None = None):
    """Annotate ``due_at`` (step start + target) and ``warn_at`` (when it is due soon),
    so queues sort and count by deadline in the database."""
    steps = steps_by_code() if steps is None else steps
    return queryset.annotate(
        due_at=_deadline_case(steps, lambda step: 1),
        warn_at=_deadline_case(steps, lambda step: step.warning_percent / 100),
    )


def attach_clocks(orders, steps: dict[str, ProcessStep] | None = None, now=None):
    """Set ``order.clock`` on each order of an evaluated list (one steps query)."""
    steps = steps_by_code() if steps is None else steps
    now = now or timezone.now()
    for order in orders:
        order.clock = clock_for(order, steps, now)
    return orders
