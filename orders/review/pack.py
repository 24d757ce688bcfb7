"""The review pack of a period: the steps' figures from the step runs, the
departments' sections (``orders.review.register``), the rework, the changes to the
process definition and the open action items.

Everything is aggregated in the database, a constant number of queries whatever the
number of orders: one GROUP BY per table, percentiles by ``Percentile``. A period's
runs are the runs that ended in it (the local days ``start`` to ``end``, both
included)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import charts
from ..models import (
    ActionItem,
    ActionStatus,
    ChangeRequestStatus,
    DeliveryChangeRequest,
    DeliveryPromise,
    ProcessChange,
    ProcessStep,
    StepRun,
)
from ..models.customers import Channel
from ..roles import Role
from ..services.review import change_label, change_value
from . import (
    HANDOFFS,
    REWORK,
    Duration,
    Flag,
    Link,
    Section,
    Share,
    department_sections,
    format_duration,
    register,
    rework_columns,
)
from .db import Percentile, without_jit

WORST = 50
LISTED = 200  # changes and action items shown at most (the newest / soonest due)


@dataclass
class StepFigures:
    """One process step in the period."""

    code: str
    name: str
    role: str
    runs: int = 0
    orders: int = 0
    median: float | None = None
    p90: float | None = None
    target: float | None = None  # the step's target now (seconds)
    targets: list = field(default_factory=list)  # [(seconds or None, runs)] in force
    target_changed: bool = False
    breaches: int = 0

    @property
    def share(self) -> Share:
        return Share(self.breaches, self.runs)

    @property
    def over_target(self) -> bool:
        return self.median is not None and self.target is not None and self.median > self.target

    def targets_text(self) -> str:
        if not self.targets:
            return "—"
        parts = []
        for seconds, runs in self.targets:
            shown = _("no target") if seconds is None else format_duration(seconds)
            parts.append(_("%(target)s (%(runs)d runs)") % {"target": shown, "runs": runs})
        text = _(", ").join(parts)
        if self.target_changed:
            text += " · " + _("changed in this period")
        return text


@dataclass
class Pack:
    start: date
    end: date
    start_dt: datetime
    end_dt: datetime
    steps: list[StepFigures]
    sections: list[Section]
    charts: list

    @property
    def runs(self) -> int:
        return sum(step.runs for step in self.steps)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local midnight of ``start`` and of the day after ``end`` (the end excluded)."""
    zone = timezone.get_default_timezone()
    start_dt = datetime.combine(start, time.min, tzinfo=zone)
    end_dt = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return start_dt, end_dt


def build_pack(start: date, end: date) -> Pack:
    """The review pack of the local days ``start`` to ``end`` (both included)."""
    start_dt, end_dt = period_bounds(start, end)
    with without_jit():
        return _build(start, end, start_dt, end_dt)


def _build(start, end, start_dt, end_dt) -> Pack:
    runs = StepRun.objects.filter(ended_at__gte=start_dt, ended_at__lt=end_dt).order_by()
    definitions = list(ProcessStep.objects.order_by("position"))
    names = {step.code: step.name for step in definitions}
    changes = list(
        ProcessChange.objects.filter(at__gte=start_dt, at__lt=end_dt)
        .select_related("step", "by")
        .order_by("at", "pk")[:LISTED]
    )
    steps, groups = _step_figures(runs, definitions, changes)

    sections = [_steps_section(steps)]
    sections += _breakdowns(groups, names)
    sections.append(_worst(runs, names))
    sections += _merged(department_sections(start_dt, end_dt))
    sections.append(_changes_section(changes))
    sections.append(_actions_section(end_dt))
    return Pack(
        start=start,
        end=end,
        start_dt=start_dt,
        end_dt=end_dt,
        steps=steps,
        sections=sections,
        charts=_step_charts(steps),
    )


def _step_figures(runs, definitions, changes) -> tuple[list[StepFigures], list[dict]]:
    """The steps' figures, and the counts of the period's runs per step, target in
    force, role, person who ended it and channel (a few dozen rows, from which the
    targets and the breakdowns by owner and by channel are summed): two passes over the
    period's runs, whatever its length."""
    totals = {
        row["step"]: row
        for row in runs.values("step").annotate(
            orders=Count("order", distinct=True),
            median=Percentile("seconds", 0.5),
            p90=Percentile("seconds", 0.9),
        )
    }
    groups = list(
        runs.values(
            "step",
            "target_seconds",
            "role",
            "by",
            "by__username",
            "by__first_name",
            "by__last_name",
            "channel",
        ).annotate(runs=Count("id"), breaches=Count("id", filter=Q(breached=True)))
    )
    counted = defaultdict(lambda: [0, 0])
    in_force = defaultdict(lambda: defaultdict(int))
    for row in groups:
        counted[row["step"]][0] += row["runs"]
        counted[row["step"]][1] += row["breaches"]
        in_force[row["step"]][row["target_seconds"]] += row["runs"]
    # Targets in force, the longest first and "no target" last.
    targets = {
        code: sorted(found.items(), key=lambda item: (item[0] is None, -(item[0] or 0)))
        for code, found in in_force.items()
    }
    changed = {
        change.step.code
        for change in changes
        if change.field == "target" or change.field.startswith("target:")
    }
    figures = []
    for step in definitions:
        row = totals.get(step.code, {})
        runs_n, breaches = counted.get(step.code, (0, 0))
        figures.append(
            StepFigures(
                code=step.code,
                name=step.name,
                role=str(Role(step.role).label) if step.role in Role.values else step.role,
                runs=runs_n,
                orders=row.get("orders", 0),
                median=row.get("median"),
                p90=row.get("p90"),
                target=step.target.total_seconds() if step.target else None,
                targets=targets.get(step.code, []),
                target_changed=step.code in changed,
                breaches=breaches,
            )
        )
    return figures, groups


def _steps_section(steps) -> Section:
    columns = [
        _("Step"),
        _("Owner"),
        _("Runs"),
        _("Orders"),
        _("Median"),
        _("90th percentile"),
        _("Target now"),
        _("Targets in force"),
        _("Over target"),
        _("Share over target"),
    ]
    rows = [
        [
            step.name,
            step.role,
            step.runs,
            step.orders,
            Duration(step.median),
            Duration(step.p90),
            Duration(step.target),
            step.targets_text(),
            step.breaches,
            step.share,
        ]
        for step in steps
    ]
    return Section(title=_("Steps"), columns=columns, rows=rows, key="steps")


def _step_charts(steps) -> list:
    # The steps that ran in the period (a step without runs has no bar to draw).
    steps = [step for step in steps if step.runs] or steps
    hours = [(step.name, (step.median or 0) / 3600) for step in steps]
    median = charts.bar_chart(
        "review-median",
        _("Median time per step (hours)"),
        hours,
        x_label=_("hours"),
        targets=[None if step.target is None else step.target / 3600 for step in steps],
        target_label=_("target"),
        highlight=[step.over_target for step in steps],
    )
    shares = charts.bar_chart(
        "review-breaches",
        _("Share of runs over target (%)"),
        [(step.name, step.share.value or 0) for step in steps],
        x_label="%",
        highlight=[bool(step.breaches) for step in steps],
    )
    return [median, shares]


def _breakdowns(groups, names) -> list[Section]:
    """Over target by owner and by channel, summed from the runs' groups."""
    by_owner = defaultdict(lambda: [0, 0])
    by_channel = defaultdict(lambda: [0, 0])
    for row in groups:
        person = (row["by__username"], _person(row)) if row["by"] else None
        for key, found in (
            ((row["step"], row["role"], person), by_owner),
            ((row["step"], row["channel"]), by_channel),
        ):
            found[key][0] += row["runs"]
            found[key][1] += row["breaches"]
    # The most over target first; then by step, role and username (nobody, the
    # automatic runs, last).
    owners = sorted(
        ((key, value) for key, value in by_owner.items() if value[1] > 0),
        key=lambda item: (
            -item[1][1],
            item[0][0],
            item[0][1],
            item[0][2] is None,
            item[0][2] or ("", ""),
        ),
    )
    owner_rows = [
        [
            names.get(step, step),
            _label(Role, role),
            person[1] if person else _("nobody (automatic)"),
            n,
            over,
            Share(over, n),
        ]
        for (step, role, person), (n, over) in owners
    ]
    order = {code: i for i, code in enumerate(names)}
    channel_rows = [
        [
            names.get(step, step),
            _label(Channel, channel),
            n,
            over,
            Share(over, n),
        ]
        for (step, channel), (n, over) in sorted(
            by_channel.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1])
        )
    ]
    return [
        Section(
            title=_("Over target by owner"),
            columns=[_("Step"), _("Role"), _("Ended by"), _("Runs"), _("Over target"), _("Share")],
            rows=owner_rows,
            key="by_owner",
        ),
        Section(
            title=_("Over target by channel"),
            columns=[_("Step"), _("Channel"), _("Runs"), _("Over target"), _("Share")],
            rows=channel_rows,
            key="by_channel",
        ),
    ]


def _person(row) -> str:
    full = f"{row['by__first_name'] or ''} {row['by__last_name'] or ''}".strip()
    return full or row["by__username"] or "—"


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else value


def _worst(runs, names) -> Section:
    # The 50 worst runs first (a top-N sort of the period's runs over target), then
    # their orders' numbers: not a join of every run over target to every order.
    ranking = ("-over", "ended_at", "pk")
    worst = (
        runs.filter(breached=True, target_seconds__isnull=False)
        .annotate(over=F("seconds") - F("target_seconds"))
        .order_by(*ranking)
    )
    worst = (
        StepRun.objects.filter(pk__in=worst.values("pk")[:WORST])
        .annotate(over=F("seconds") - F("target_seconds"))
        .order_by(*ranking)
        .values("order__number", "step", "seconds", "target_seconds", "over", "channel")
    )
    rows = [
        [
            Link(row["order__number"], reverse("order_detail", args=[row["order__number"]])),
            names.get(row["step"], row["step"]),
            Duration(row["seconds"]),
            Duration(row["target_seconds"]),
            Duration(row["over"]),
            _label(Channel, row["channel"]),
        ]
        for row in worst
    ]
    return Section(
        title=_("Worst runs over target"),
        columns=[_("Order"), _("Step"), _("Took"), _("Target"), _("Over by"), _("Channel")],
        rows=rows,
        key="worst",
        note=_("At most %(n)d, the most over target first.") % {"n": WORST},
    )


def _merged(found: list[Section]) -> list[Section]:
    """Sections sharing a key become one table (hand-offs first, then rework, then
    the rest in provider order)."""
    merged: dict[str, Section] = {}
    rest = []
    for section in found:
        if section.key in (HANDOFFS, REWORK):
            if section.key in merged:
                merged[section.key].rows.extend(section.rows)
            else:
                merged[section.key] = Section(
                    title=section.title,
                    columns=list(section.columns),
                    rows=list(section.rows),
                    key=section.key,
                    note=section.note,
                )
        else:
            rest.append(section)
    result = [merged[key] for key in (HANDOFFS, REWORK) if key in merged]
    rework = merged.get(REWORK)
    if rework and rework.rows:
        rework.chart = charts.bar_chart(
            "review-rework",
            _("What was done again"),
            [(str(row[0]), row[1]) for row in rework.rows],
            x_label=_("count"),
        )
    return result + rest


def orders_rework(start_dt, end_dt) -> list[Section]:
    """What orders owns of the rework: new delivery dates (a promise after the first
    one of an order) and the customers' change requests."""
    earlier = DeliveryPromise.objects.filter(
        order=OuterRef("order"), created_at__lt=OuterRef("created_at")
    )
    promised = (
        DeliveryPromise.objects.filter(created_at__gte=start_dt, created_at__lt=end_dt)
        .filter(Exists(earlier))
        .aggregate(count=Count("id"), orders=Count("order", distinct=True))
    )
    requests = DeliveryChangeRequest.objects.filter(
        created_at__gte=start_dt, created_at__lt=end_dt
    ).aggregate(
        count=Count("id"),
        orders=Count("order", distinct=True),
        approved=Count("id", filter=Q(status=ChangeRequestStatus.APPROVED)),
        approved_orders=Count(
            "order", distinct=True, filter=Q(status=ChangeRequestStatus.APPROVED)
        ),
    )
    rows = [[_("New delivery dates"), promised["count"], promised["orders"]]]
    rows.append([_("Delivery changes asked by customers"), requests["count"], requests["orders"]])
    rows.append([_("Delivery changes approved"), requests["approved"], requests["approved_orders"]])
    return [Section(title=_("Rework"), columns=rework_columns(), rows=rows, key=REWORK)]


def _changes_section(changes) -> Section:
    rows = [
        [
            change.step.name,
            change_label(change),
            change_value(change, change.old) or "—",
            change_value(change, change.new) or "—",
            (change.by.get_full_name() or change.by.username) if change.by else "—",
            timezone.localtime(change.at).strftime("%Y-%m-%d %H:%M"),
        ]
        for change in changes
    ]
    return Section(
        title=_("Changes to the process definition"),
        columns=[_("Step"), _("Field"), _("Before"), _("After"), _("Who"), _("When")],
        rows=rows,
        key="changes",
    )


def _actions_section(end_dt) -> Section:
    today = timezone.localdate()
    items = (
        ActionItem.objects.filter(status=ActionStatus.OPEN, created_at__lt=end_dt)
        .select_related("owner", "meeting")
        .order_by("due_on", "pk")[:LISTED]
    )
    rows = [
        [
            item.title,
            item.owner.get_full_name() or item.owner.username,
            item.due_on.isoformat(),
            Flag(_("Late")) if item.is_late(today) else "",
            Link(
                item.meeting.held_on.isoformat(),
                reverse("review_meeting", args=[item.meeting_id]),
            ),
        ]
        for item in items
    ]
    return Section(
        title=_("Open action items"),
        columns=[_("Action"), _("Owner"), _("Due"), _("Late"), _("Meeting")],
        rows=rows,
        key="actions",
    )


register(orders_rework, position=5)
