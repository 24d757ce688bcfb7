"""What finance's pages read: an order's money, its closing checklist, the queues."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders import closing
from orders.clock import steps_by_code
from orders.closing import Check, Condition
from orders.models import Order, ReturnStep, ReturnStepCode, StepCode

from .models import (
    Account,
    ChecklistOverride,
    ClosingRequest,
    EntryKind,
    Invoice,
    LedgerEntry,
    RequestStatus,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# How many rows each queue shows (the oldest first); the count says the rest.
QUEUE_ROWS = 25


def _total(kind):
    return Coalesce(
        Sum("amount", filter=Q(kind=kind)),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def ledger_totals(order_id) -> dict:
    """Charged, paid, refunded and the balance of one order, summed by the database
    over its ledger (exact: numeric, never floats)."""
    totals = LedgerEntry.objects.filter(order_id=order_id).aggregate(
        charged=_total(EntryKind.CHARGE),
        paid=_total(EntryKind.PAYMENT),
        refunded=_total(EntryKind.REFUND),
    )
    totals["balance"] = totals["charged"] - totals["paid"] + totals["refunded"]
    return totals


@dataclass(frozen=True)
class Money:
    currency: str
    charged: Decimal
    paid: Decimal
    refunded: Decimal
    balance: Decimal
    invoiced: Decimal

    @property
    def to_collect(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def to_refund(self) -> Decimal:
        return max(-self.balance, ZERO)


def money(order) -> Money:
    """The order's money as its account holds it (kept by finance.services)."""
    account = Account.objects.filter(order=order).first()
    invoiced = Invoice.objects.filter(order=order, voided_at__isnull=True).aggregate(
        n=Sum("amount")
    )["n"]
    invoiced = Decimal(str(invoiced or 0)).quantize(CENT)
    if account is None:
        return Money(order.currency, ZERO, ZERO, ZERO, ZERO, invoiced)
    return Money(
        account.currency, account.charged, account.paid, account.refunded, account.balance, invoiced
    )


def ledger(order):
    return (
        LedgerEntry.objects.filter(order=order)
        .select_related("method", "recorded_by", "reverses")
        .annotate(reversed_count=Count("reversed_by"))
    )


def invoices(order):
    return Invoice.objects.filter(order=order).select_related("type", "recorded_by", "voided_by")


# ---------------------------------------------------------------------------
# Finance's own checklist items


def _invoiced(order):
    return Coalesce(
        Subquery(
            Invoice.objects.filter(order=order, voided_at__isnull=True)
            .values("order")
            .annotate(n=Sum("amount"))
            .values("n")
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _invoice_matches(order):
    """The order (``order``: a reference to its id) was invoiced exactly what it was
    charged, and charged something, unless it replaces exchanged goods (nothing to
    pay, nothing to invoice)."""
    charged = Coalesce(
        Subquery(Account.objects.filter(order=OuterRef("pk")).values("charged")),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    return Exists(
        Order.objects.filter(pk=order)
        .annotate(charged=charged, invoiced=_invoiced(OuterRef("pk")))
        .filter(Q(charged__gt=0) | Q(replaces__isnull=False), charged=F("invoiced"))
    )


INVOICE = Condition(
    "invoice",
    _("Invoice issued for the amount charged"),
    lambda order: ~_invoice_matches(order),
)
BALANCE = Condition(
    "balance",
    _("Balance zero: every charge paid"),
    lambda order: Exists(Account.objects.filter(order=order, balance__gt=0)),
)
REFUNDS = Condition(
    "refunds",
    _("Refunds paid"),
    lambda order: Exists(Account.objects.filter(order=order, balance__lt=0)),
)
CONDITIONS = (INVOICE, BALANCE, REFUNDS)


def closing_checks(orders) -> dict:
    """Invoice issued for the amount charged; balance zero; refunds paid."""
    ids = [order.pk for order in orders]
    accounts = {a.order_id: a for a in Account.objects.filter(order__in=ids)}
    invoiced = dict(
        Invoice.objects.filter(order__in=ids, voided_at__isnull=True)
        .values("order_id")
        .annotate(n=Sum("amount"))
        .values_list("order_id", "n")
    )
    checks = {}
    for order in orders:
        page = _request_url(order)
        account = accounts.get(order.pk)
        charged = account.charged if account else ZERO
        balance = account.balance if account else ZERO
        currency = account.currency if account else order.currency
        total_invoiced = invoiced.get(order.pk, ZERO)
        amounts = {"currency": currency}
        # A replacement for exchanged goods costs nothing: nothing to invoice.
        invoiced_right = total_invoiced == charged and (
            charged > 0 or order.replaces_id is not None
        )
        checks[order.pk] = [
            Check(
                INVOICE.key,
                INVOICE.label,
                invoiced_right,
                ""
                if invoiced_right
                else _("Invoiced %(invoiced)s of %(charged)s %(currency)s.")
                % {**amounts, "invoiced": total_invoiced, "charged": charged},
                ((_("Invoices"), f"{page}#invoices"),),
            ),
            Check(
                BALANCE.key,
                BALANCE.label,
                balance <= 0,
                ""
                if balance <= 0
                else _("%(amount)s %(currency)s still to collect.")
                % {**amounts, "amount": balance},
                ((_("Ledger"), f"{page}#ledger"),),
            ),
            Check(
                REFUNDS.key,
                REFUNDS.label,
                balance >= 0,
                ""
                if balance >= 0
                else _("%(amount)s %(currency)s to refund to the customer.")
                % {**amounts, "amount": -balance},
                ((_("Ledger"), f"{page}#ledger"),),
            ),
        ]
    return checks


def _request_url(order) -> str:
    from django.urls import reverse

    return reverse("finance:request", args=[order.number])


@dataclass(frozen=True)
class ChecklistItem:
    check: Check
    override: ChecklistOverride | None

    @property
    def passes(self) -> bool:
        return self.check.passed or self.override is not None or not self.check.required


def checklist(order, request: ClosingRequest | None, overrides=None) -> list[ChecklistItem]:
    """``order``'s checklist with the manager overrides recorded on its request."""
    if overrides is None:
        overrides = {o.key: o for o in request.overrides.select_related("by")} if request else {}
    return [ChecklistItem(c, overrides.get(c.key)) for c in closing.checklist(order)]


def failing(items: list[ChecklistItem]) -> list[ChecklistItem]:
    return [item for item in items if not item.passes]


def ready_to_close(order) -> bool:
    """The gate on Order.close: its closing request is in review and every item of the
    checklist passes (or a manager overrode it with a reason)."""
    request = ClosingRequest.objects.filter(order=order).first()
    if request is None or request.status != RequestStatus.IN_REVIEW:
        return False
    return not failing(checklist(order, request))


# ---------------------------------------------------------------------------
# The dashboard


@dataclass
class RequestRow:
    request: ClosingRequest
    failing: list
    late: bool = False


@dataclass
class Queue:
    """A queue's oldest rows, and how many requests it holds in all."""

    rows: list[RequestRow]
    count: int


def closing_target() -> timedelta | None:
    """The closing step's target time (the admin's process definition), or None."""
    step = steps_by_code().get(StepCode.CLOSING)
    return step.target if step is not None else None


def _row(request: ClosingRequest, failing, late_after, now) -> RequestRow:
    late = late_after is not None and now - request.step_started_at >= late_after
    return RequestRow(request, failing, late=late)


def requests_in(statuses, *, limit=QUEUE_ROWS, late_after=None, escalated=False):
    """The requests in ``statuses``, longest waiting first; ``late`` when a request has
    waited in the hands it is in for longer than ``late_after`` (a timedelta).
    ``escalated``: only the requests escalated to the managers."""
    found = ClosingRequest.objects.filter(status__in=statuses)
    if escalated:
        found = found.filter(escalated_at__isnull=False)
    requests = found.select_related("order", "salesperson").order_by("step_started_at", "pk")
    now = timezone.now()
    return [_row(r, [], late_after, now) for r in requests[:limit]]


def verdicts(requests) -> dict[int, list[Condition]]:
    """The failing checklist items of each request of ``requests`` (a queryset), by
    its id, the longest waiting first: each required item is asked of the database
    (orders.closing.Condition), less the items a manager overrode, for all of them in
    one query."""
    conditions = closing.conditions()
    flags = {
        f"fails_{c.key}": ExpressionWrapper(
            c.fails(OuterRef("order_id"))
            & ~Exists(ChecklistOverride.objects.filter(request=OuterRef("pk"), key=c.key)),
            BooleanField(),
        )
        for c in conditions
    }
    rows = requests.annotate(**flags).order_by("step_started_at", "pk").values_list("pk", *flags)
    return {
        pk: [c for c, fails in zip(conditions, failed, strict=True) if fails]
        for pk, *failed in rows
    }


def queues(lanes: dict[str, Q], *, limit=None, late_after=None, failing=None) -> dict[str, Queue]:
    """The open closing requests sorted into ``lanes`` (name: condition on a request;
    the first lane a request meets holds it): each lane's ``limit`` longest waiting
    requests, and how many it holds, in one query whatever the number of requests.
    ``failing``: the failing items to show, by request id."""
    limit = limit or QUEUE_ROWS
    failing = failing or {}
    lane = Case(
        *(When(condition, then=Value(name)) for name, condition in lanes.items()),
        default=None,
        output_field=CharField(),
    )
    order = [F("step_started_at").asc(), F("pk").asc()]
    found = (
        ClosingRequest.objects.exclude(status=RequestStatus.APPROVED)
        .annotate(lane=lane)
        .filter(lane__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("lane")], order_by=order),
            in_lane=Window(Count("pk"), partition_by=[F("lane")]),
        )
        .filter(rank__lte=limit)
        .select_related("order", "salesperson")
        .order_by("lane", "rank")
    )
    result = {name: Queue([], 0) for name in lanes}
    now = timezone.now()
    for request in found:
        queue = result[request.lane]
        queue.count = request.in_lane
        queue.rows.append(_row(request, failing.get(request.pk, []), late_after, now))
    return result


def dashboard_queues(late_after=None) -> dict[str, Queue]:
    """Finance's queues: to acknowledge; in review, split into the requests whose
    every item passes and the blocked ones (all of them are checked, so blocked
    requests never hide behind many that pass, nor the other way round); sent back."""
    limit = QUEUE_ROWS
    review = verdicts(ClosingRequest.objects.filter(status=RequestStatus.IN_REVIEW))
    passing = [pk for pk, failing in review.items() if not failing]
    blocked = {pk: failing for pk, failing in review.items() if failing}
    found = queues(
        {
            "to_acknowledge": Q(status=RequestStatus.SUBMITTED),
            "in_review": Q(pk__in=passing[:limit]),
            "blocked": Q(pk__in=list(blocked)[:limit]),
            "sent_back": Q(status=RequestStatus.SENT_BACK),
        },
        limit=limit,
        late_after=late_after,
        failing=blocked,
    )
    found["in_review"].count, found["blocked"].count = len(passing), len(blocked)
    return found


def request_counts() -> dict[str, int]:
    rows = (
        ClosingRequest.objects.exclude(status=RequestStatus.APPROVED)
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = {status: 0 for status in RequestStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


AGE_BUCKETS = (
    ("0_30", _("0–30 days"), 0, 30),
    ("31_60", _("31–60 days"), 31, 60),
    ("61_90", _("61–90 days"), 61, 90),
    ("90_plus", _("Over 90 days"), 91, None),
)


def unsettled_by_age(now=None) -> list[dict]:
    """Balances still to collect, per currency and age (days since the balance left
    zero), summed by the database in one query."""
    return balances(now)[0]


def balances(now=None) -> tuple[list[dict], int]:
    """The unsettled balances by age (``unsettled_by_age``) and how many orders are
    owed a refund, from one query over the accounts not settled."""
    now = now or timezone.now()
    whens = []
    for key, _label, low, high in AGE_BUCKETS:
        condition = Q(since__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(since__gt=now - timedelta(days=high + 1))
        whens.append(When(condition, then=Value(key)))
    whens.insert(0, When(balance__lt=0, then=Value("refund")))
    rows = (
        Account.objects.exclude(balance=0)
        .annotate(bucket=Case(*whens, default=Value("0_30")))
        .values("currency", "bucket")
        .annotate(n=Count("pk"), amount=Sum("balance"))
        .order_by("currency")
    )
    table: dict[str, dict] = {}
    refunds = 0
    for row in rows:
        if row["bucket"] == "refund":
            refunds += row["n"]
            continue
        currency = table.setdefault(
            row["currency"],
            {
                "currency": row["currency"],
                "buckets": {key: {"n": 0, "amount": ZERO} for key, *_ in AGE_BUCKETS},
                "n": 0,
                "amount": ZERO,
            },
        )
        # Exact to the fen (SQLite, the demo's database, sums decimals as floats).
        amount = Decimal(str(row["amount"])).quantize(CENT)
        currency["buckets"][row["bucket"]] = {"n": row["n"], "amount": amount}
        currency["n"] += row["n"]
        currency["amount"] += amount
    for currency in table.values():
        currency["cells"] = [currency["buckets"][key] for key, *_ in AGE_BUCKETS]
    return list(table.values()), refunds


def refunds_due(limit=QUEUE_ROWS):
    """Orders that owe the customer money (paid more than charged: a cancelled paid
    order, a lowered charge, a return), longest waiting first; ``late`` when one has
    waited past the refund step's target (orders.ReturnStep "refund")."""
    target = ReturnStep.objects.filter(code=ReturnStepCode.REFUND).values("target")[:1]
    accounts = list(
        Account.objects.filter(balance__lt=0)
        .annotate(to_refund=-F("balance"), target=Subquery(target, output_field=DurationField()))
        .select_related("order")
        .order_by("since", "pk")[:limit]
    )
    now = timezone.now()
    for account in accounts:
        account.late = bool(
            account.target and account.since and now - account.since > account.target
        )
    return accounts


def refunds_due_count() -> int:
    return Account.objects.filter(balance__lt=0).count()


def local_day_bounds(start, end):
    """The instants from the start of local day ``start`` to the end of ``end``."""
    zone = timezone.get_current_timezone()
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return first, after


def closed_orders(start, end):
    """Orders closed between two local dates (inclusive), for the accounting export."""
    first, after = local_day_bounds(start, end)
    return (
        ClosingRequest.objects.filter(
            status=RequestStatus.APPROVED, approved_at__gte=first, approved_at__lt=after
        )
        .select_related("order", "approved_by")
        .order_by("approved_at", "pk")
    )


def ledger_between(start, end):
    """Ledger entries recorded between two local dates (inclusive), for the export."""
    first, after = local_day_bounds(start, end)
    return LedgerEntry.objects.filter(recorded_at__gte=first, recorded_at__lt=after).order_by(
        "recorded_at", "pk"
    )
