"""Queries the receipt panels, the Sales page and the tasks read. Nothing here writes."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from orders.models import Order, ProcessStep, ReturnStep, ReturnStepCode, Status, StepCode

from .models import (
    AWAITING_GOODS,
    OPEN_RETURN_STATUSES,
    REFUND_OUTCOMES,
    CaseStatus,
    ProblemCase,
    ProblemPhoto,
    Receipt,
    ReturnLine,
    ReturnOutcome,
    ReturnRequest,
    ReturnStatus,
    SurveyFollowUp,
)

# Without a target time on the receipt step, receipt counts as confirmed after this.
DEFAULT_RECEIPT_LIMIT = timedelta(days=7)
# Without a follow-up time on the receipt step, Sales answers a problem within this.
DEFAULT_CASE_RESPONSE = timedelta(hours=24)


def _receipt_step(steps=None):
    """The receipt step: from ``steps`` (steps_by_code) when the caller has them, else
    read alone (one query; its target does not depend on the channel here)."""
    if steps is not None:
        return steps.get(StepCode.RECEIPT)
    return ProcessStep.objects.filter(code=StepCode.RECEIPT).first()


def receipt_limit(steps=None) -> timedelta:
    """How long a delivered order waits for the customer's answer: the target time of
    the receipt step (set in the admin), else seven days."""
    step = _receipt_step(steps)
    return (step.target if step else None) or DEFAULT_RECEIPT_LIMIT


def case_response_time(steps=None) -> timedelta:
    """How long Sales has to answer a problem report: the receipt step's follow-up
    time (set in the admin), else 24 hours."""
    step = _receipt_step(steps)
    return (step.follow_up_within if step else None) or DEFAULT_CASE_RESPONSE


def awaiting_receipt(now=None, *, limit=None):
    """Delivered orders without a receipt and without an open problem case (a queryset).

    With ``limit``, only those whose answer is overdue: delivered (the state's start,
    ``step_started_at``), and any problem case resolved, longer than ``limit`` ago.

    Every condition on feedback's rows is a NOT EXISTS, never a join: the delivered
    orders are read in ``step_started_at`` order through orders' (status,
    step_started_at) index, and each is checked against the receipts' unique key and
    the cases' partial indexes, so a page of them reads a page of rows, not every
    receipt and case there is.
    """
    now = now or timezone.now()
    qs = Order.objects.filter(status=Status.DELIVERED).exclude(
        Exists(Receipt.objects.filter(order=OuterRef("pk")))
    )
    qs = qs.exclude(
        Exists(ProblemCase.objects.filter(order=OuterRef("pk"), status=CaseStatus.OPEN))
    )
    if limit is not None:
        cutoff = now - limit
        qs = qs.filter(step_started_at__lte=cutoff).exclude(
            Exists(
                ProblemCase.objects.filter(
                    order=OuterRef("pk"), status=CaseStatus.RESOLVED, resolved_at__gt=cutoff
                )
            )
        )
    return qs


def receipt_of(order) -> Receipt | None:
    return Receipt.objects.filter(order=order).select_related("by").first()


@dataclass
class PublicReceipt:
    """What the status page may show of receipt and problems: dates and kinds only,
    never the customer's words or Sales' answer (they may hold personal details)."""

    order: Order
    receipt: Receipt | None
    open_case: ProblemCase | None
    resolved_cases: list = field(default_factory=list)
    # When receipt will count as confirmed without an answer (None: not waiting).
    auto_confirm_at: object = None

    @property
    def delivered(self) -> bool:
        return self.order.status == Status.DELIVERED

    @property
    def can_confirm(self) -> bool:
        return self.delivered and self.receipt is None

    @property
    def can_report(self) -> bool:
        return self.delivered and self.open_case is None

    @property
    def shown(self) -> bool:
        return self.delivered or self.receipt is not None or bool(self.resolved_cases)


def auto_confirm_at(order, cases, limit):
    """When receipt of a delivered order counts as confirmed without an answer: the
    limit after delivery, or after the last resolved problem; None while a case is open."""
    if order.status != Status.DELIVERED or any(c.status == CaseStatus.OPEN for c in cases):
        return None
    resolved = [c.resolved_at for c in cases if c.resolved_at]
    return max([order.step_started_at, *resolved]) + limit


def public_receipt(order, limit) -> PublicReceipt:
    """The receipt panel of the status page; ``limit``: the receipt step's time."""
    cases = list(
        ProblemCase.objects.filter(order=order).only(
            "pk", "order_id", "kind", "status", "opened_at", "resolved_at"
        )
    )
    receipt = Receipt.objects.filter(order=order).only("pk", "order_id", "confirmed_at", "how")
    receipt = receipt.first()
    return PublicReceipt(
        order=order,
        receipt=receipt,
        open_case=next((c for c in cases if c.status == CaseStatus.OPEN), None),
        resolved_cases=[c for c in cases if c.status == CaseStatus.RESOLVED],
        auto_confirm_at=None if receipt else auto_confirm_at(order, cases, limit),
    )


def cases_of(order) -> list[ProblemCase]:
    """An order's problem cases with their photos, oldest first (staff)."""
    return list(
        ProblemCase.objects.filter(order=order)
        .select_related("owner", "resolved_by")
        .prefetch_related(Prefetch("photos", queryset=ProblemPhoto.objects.order_by("pk")))
    )


def open_cases(now=None):
    """Open problem cases, oldest first, each with ``overdue`` (past its due time) and
    ``photo_count``. Read through the open cases' partial index; the photos are
    counted per case by a subquery (no join that multiplies the rows)."""
    now = now or timezone.now()
    photos = (
        ProblemPhoto.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    cases = list(
        ProblemCase.objects.filter(status=CaseStatus.OPEN)
        .select_related("order__customer", "owner")
        .annotate(photo_count=Coalesce(Subquery(photos), 0))
        .order_by("opened_at", "pk")
    )
    for case in cases:
        case.overdue = case.due_at <= now
        case.age = now - case.opened_at
    return cases


def orders_awaiting_receipt(limit, now=None, *, size=100):
    """Delivered orders still waiting for the customer's answer, longest waiting first,
    each with ``delivered_at`` and ``auto_confirm_at`` (when receipt counts as confirmed).
    The last resolved case of each is a subquery on the resolved cases' partial index,
    evaluated for the rows shown only."""
    now = now or timezone.now()
    last_resolved = (
        ProblemCase.objects.filter(order=OuterRef("pk"), status=CaseStatus.RESOLVED)
        .order_by("-resolved_at")
        .values("resolved_at")[:1]
    )
    qs = (
        awaiting_receipt(now)
        .select_related("customer", "salesperson")
        .annotate(last_resolved=Subquery(last_resolved))
        .order_by("step_started_at", "pk")
    )
    orders = list(qs[:size])
    for order in orders:
        order.delivered_at = order.step_started_at
        # After a resolved problem the customer gets the full time again.
        start = max(order.step_started_at, order.last_resolved or order.step_started_at)
        order.auto_confirm_at = start + limit
    return orders


def recently_resolved(size=20):
    """The last ``size`` resolved cases, newest first (the resolved cases' index)."""
    return list(
        ProblemCase.objects.filter(status=CaseStatus.RESOLVED)
        .select_related("order", "resolved_by")
        .order_by("-resolved_at", "-pk")[:size]
    )


def returns_to_decide(limit=200):
    """Return requests waiting for Sales' decision, oldest first (through the partial
    index of requested returns), with their reason, order and units asked."""
    return list(
        ReturnRequest.objects.filter(status=ReturnStatus.REQUESTED)
        .select_related("order__customer", "reason", "owner")
        .annotate(units=Sum("lines__quantity"))
        .order_by("requested_at", "pk")[:limit]
    )


def approved_returns(limit=200):
    """Approved returns still open (waiting for the goods, at the warehouse, to
    settle), oldest decision first."""
    return list(
        ReturnRequest.objects.filter(status__in=OPEN_RETURN_STATUSES)
        .exclude(status=ReturnStatus.REQUESTED)
        .select_related("order__customer", "reason")
        .order_by("decided_at", "pk")[:limit]
    )


# Approved, and the customer keeps the goods with a partial refund: no parcel comes back.
KEEPS = Q(status=ReturnStatus.APPROVED, outcome=ReturnOutcome.PARTIAL_REFUND)


def _with_clock(returns):
    """``returns`` with the clock of the step each is in (orders.ReturnStep): its
    code (``clock_step``), start (``clock_start``) and target (``clock_target``)."""
    step = Case(
        When(status=ReturnStatus.REQUESTED, then=Value(ReturnStepCode.DECIDING)),
        When(KEEPS, then=Value(ReturnStepCode.REFUND)),
        When(status__in=AWAITING_GOODS, then=Value(ReturnStepCode.SENDING)),
        When(status=ReturnStatus.RECEIVED, then=Value(ReturnStepCode.INSPECTION)),
        When(status=ReturnStatus.INSPECTED, refund_amount__gt=0, then=Value(ReturnStepCode.REFUND)),
        default=None,
        output_field=CharField(),
    )
    start = Case(
        When(status=ReturnStatus.REQUESTED, then=F("requested_at")),
        When(status__in=AWAITING_GOODS, then=F("decided_at")),
        When(status=ReturnStatus.RECEIVED, then=F("received_at")),
        When(status=ReturnStatus.INSPECTED, then=F("inspected_at")),
        default=None,
        output_field=DateTimeField(),
    )
    target = ReturnStep.objects.filter(code=OuterRef("clock_step")).values("target")[:1]
    return returns.annotate(clock_step=step, clock_start=start).annotate(
        clock_target=Subquery(target, output_field=DurationField())
    )


def is_late(item, now) -> bool:
    """The return has waited in its step (``_with_clock``) past the step's target."""
    target, start = getattr(item, "clock_target", None), getattr(item, "clock_start", None)
    return bool(target and start and now - start > target)


def return_lanes(lanes: dict[str, Q], limit=10) -> dict[str, list[ReturnRequest]]:
    """The open returns sorted into ``lanes`` (name: condition; the first a return
    meets holds it), each lane's ``limit`` longest waiting, with the units asked
    (``units``) and whether they are late in their step (``late``): one query for any
    number of returns."""
    units = (
        ReturnLine.objects.filter(request=OuterRef("pk"))
        .order_by()
        .values("request")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    lane = Case(
        *(When(condition, then=Value(name)) for name, condition in lanes.items()),
        default=None,
        output_field=CharField(),
    )
    rows = (
        _with_clock(ReturnRequest.objects.filter(status__in=OPEN_RETURN_STATUSES))
        .annotate(lane=lane)
        .filter(lane__isnull=False)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("lane")],
                order_by=[F("requested_at").asc(), F("pk").asc()],
            ),
            units=Subquery(units),
        )
        .filter(rank__lte=limit)
        .select_related("order__customer", "reason")
        .order_by("requested_at", "pk")
    )
    found: dict[str, list[ReturnRequest]] = {name: [] for name in lanes}
    now = timezone.now()
    for row in rows:
        row.late = is_late(row, now)
        found[row.lane].append(row)
    return found


def open_returns(limit=10) -> dict[str, list[ReturnRequest]]:
    """Sales' returns: to decide, waiting for the goods, and to settle (the goods
    arrived otherwise than approved, or the inspection is done and the outcome is
    Sales' to complete: an exchange, a repair)."""
    return return_lanes(
        {
            "to_decide": Q(status=ReturnStatus.REQUESTED),
            "to_settle": Q(mismatch=True)
            | Q(parcel_problem=True)
            | Q(status=ReturnStatus.INSPECTED) & ~Q(outcome__in=REFUND_OUTCOMES),
            "refund_due": Q(status=ReturnStatus.INSPECTED) | KEEPS,
            "awaiting_goods": Q(status__in=AWAITING_GOODS),
        },
        limit=limit,
    )


def warehouse_returns(limit=10) -> dict[str, list[ReturnRequest]]:
    """The warehouse's returns: parcels expected (to receive), and received parcels
    waiting for their inspection."""
    return return_lanes(
        {
            "to_receive": Q(status__in=AWAITING_GOODS) & ~KEEPS,
            "to_inspect": Q(status=ReturnStatus.RECEIVED),
        },
        limit=limit,
    )


def pickups_to_book(limit=25) -> list[ReturnRequest]:
    """Approved returns a carrier collects, not booked yet, earliest pickup first;
    ``late`` when the pickup day has come."""
    rows = list(
        ReturnRequest.objects.filter(
            status=ReturnStatus.APPROVED, pickup_date__isnull=False, pickup_booked_at__isnull=True
        )
        .select_related("order")
        .order_by("pickup_date", "pk")[:limit]
    )
    today = timezone.localdate()
    for row in rows:
        row.late = row.pickup_date <= today
    return rows


# ---------------------------------------------------------------------------
# Survey follow-ups


def open_survey_follow_ups(role: str, *, limit=10):
    """A role's open survey follow-ups, the most urgent first (its dashboard)."""
    return (
        SurveyFollowUp.objects.filter(role=role, resolved_at__isnull=True)
        .select_related("order", "survey", "assignee")
        .order_by("due_at")[:limit]
    )


def escalated_survey_follow_ups(*, limit=10):
    """Escalated survey follow-ups still open (the managers' overview)."""
    return (
        SurveyFollowUp.objects.filter(resolved_at__isnull=True, escalated_at__isnull=False)
        .select_related("order")
        .order_by("due_at")[:limit]
    )
