"""Everything that writes finance's records. Each action locks the order's row (so two
people recording payments for one order are serialised and both count), checks,
writes, keeps the account's totals (summed by the database) and writes the order's
timeline in the same transaction; emails leave only after commit.

Submissions are idempotent: each form carries a one-time token, and a token seen
before returns what it wrote the first time instead of writing again.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from orders import timeline
from orders.models import NotificationKind, Order, Status
from orders.roles import Role, has_role
from orders.services import (
    OrderActionError,
    OrderChanged,
    TransitionForbidden,
    TransitionNotAllowed,
    close_order,
    notify_customer,
)

from . import selectors
from .models import (
    GOODS_CHARGE_REASONS,
    WITH_SALES,
    Account,
    ChargeKind,
    ChecklistOverride,
    ClosingDocument,
    ClosingRequest,
    EntryKind,
    FreightTerms,
    Invoice,
    InvoiceType,
    LedgerEntry,
    PaymentMethod,
    RefundFor,
    RequestStatus,
)

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
MAX_AMOUNT = Decimal("999999999999.99")
REASON_MAX = 300
NOTE_MAX = 2000


# ---------------------------------------------------------------------------
# Who may do what


def _require_finance(by):
    if by is not None and not has_role(by, Role.FINANCE):
        raise TransitionForbidden(_("Only Finance may do this."))


def _require_sales(by):
    if by is None or not has_role(by, Role.SALES):
        raise TransitionForbidden(_("Only Sales may submit a closing request."))


def _require_manager(by):
    if by is None or not has_role(by, Role.MANAGER):
        raise TransitionForbidden(_("Only a manager may override a checklist item."))


def _reason(text, *, required=True, limit=REASON_MAX) -> str:
    text = (text or "").strip()
    if required and not text:
        raise OrderActionError(_("Please give a reason."))
    if len(text) > limit:
        raise OrderActionError(_("A reason can have at most %(max)d characters.") % {"max": limit})
    return text


def _amount(value, *, allow_negative=False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise OrderActionError(_("Enter an amount."))
    if value != value.quantize(Decimal("0.01")):
        raise OrderActionError(_("Amounts are exact to the fen: at most two decimal places."))
    if value == 0 or abs(value) > MAX_AMOUNT or (value < 0 and not allow_negative):
        raise OrderActionError(_("Enter an amount greater than zero."))
    return value


def _lock(order_id) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


# ---------------------------------------------------------------------------
# The ledger


def _recompute_account(order: Order, now) -> Account:
    """Sum the order's ledger in the database into its account (under the order's lock):
    one UPDATE whose sums PostgreSQL computes in numeric, exact to the fen."""
    account, _created = Account.objects.get_or_create(
        order=order, defaults={"currency": order.currency}
    )

    def total(kind):
        summed = Subquery(
            LedgerEntry.objects.filter(order=OuterRef("order"), kind=kind)
            .values("order")
            .annotate(n=Sum("amount"))
            .values("n")[:1]
        )
        return Coalesce(summed, Value(Decimal("0")), output_field=MONEY_FIELD)

    Account.objects.filter(pk=account.pk).update(
        charged=total(EntryKind.CHARGE),
        paid=total(EntryKind.PAYMENT),
        refunded=total(EntryKind.REFUND),
        balance=total(EntryKind.CHARGE) - total(EntryKind.PAYMENT) + total(EntryKind.REFUND),
    )
    account.refresh_from_db()
    settled = account.balance == 0
    if settled != (account.since is None):
        account.since = None if settled else now
        Account.objects.filter(pk=account.pk).update(since=account.since)
    return account


def _check_totals(order, kind, amount) -> None:
    """Refuse an entry that would take the account's totals (or its balance) beyond
    what an amount can hold: each entry is within MAX_AMOUNT, their sums may not be."""

    def summed(entry_kind):
        return Coalesce(
            Sum("amount", filter=Q(kind=entry_kind)), Value(Decimal("0")), output_field=MONEY_FIELD
        )

    totals = LedgerEntry.objects.filter(order=order).aggregate(
        charged=summed(EntryKind.CHARGE),
        paid=summed(EntryKind.PAYMENT),
        refunded=summed(EntryKind.REFUND),
    )
    totals[{EntryKind.CHARGE: "charged", EntryKind.PAYMENT: "paid"}.get(kind, "refunded")] += amount
    balance = totals["charged"] - totals["paid"] + totals["refunded"]
    if any(abs(value) > MAX_AMOUNT for value in (*totals.values(), balance)):
        raise OrderActionError(
            _("With this amount the order's totals would be too large to record. Check the amount.")
        )


_EVENT = {
    EntryKind.CHARGE: "ledger_charge",
    EntryKind.PAYMENT: "ledger_payment",
    EntryKind.REFUND: "ledger_refund",
}


def _write_entry(order, *, by, key, now, **fields) -> tuple[LedgerEntry, bool]:
    """Write one entry (or find the one ``key`` wrote), keep the account, write the
    timeline. Runs inside the caller's transaction, with the order locked."""
    existing = LedgerEntry.objects.filter(order=order, submission_key=key).first()
    if existing is not None:
        return existing, False
    _check_totals(order, fields["kind"], fields["amount"])
    fields.setdefault("happened_on", timezone.localdate(now))
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                order=order,
                currency=order.currency,
                recorded_by=by,
                recorded_at=now,
                submission_key=key,
                **fields,
            )
    except IntegrityError:
        return LedgerEntry.objects.get(order=order, submission_key=key), False
    account = _recompute_account(order, now)
    code = "ledger_reversal" if entry.reverses_id else _EVENT[entry.kind]
    data = {
        "what": entry.charge_kind or entry.kind,
        "amount": str(entry.amount),
        "currency": entry.currency,
        "balance": str(account.balance),
        "entry": entry.pk,
    }
    # The system's goods reasons are stored in English and read in the reader's
    # language (finance.timeline); what a person typed is the event's note.
    system_reason = entry.charge_kind == ChargeKind.GOODS
    if system_reason:
        data["reason"] = entry.reason
    timeline.record(
        order,
        code,
        actor=by,
        data=data,
        note="" if system_reason else entry.reason,
        created_at=now,
    )
    return entry, True


GOODS_REASONS = list(GOODS_CHARGE_REASONS)


def _goods_target(order) -> Decimal:
    if order.status in (Status.PLACED, Status.CANCELLED):
        return Decimal("0.00")
    return order.total


def sync_goods_charge(order: Order, *, by=None, now=None) -> LedgerEntry | None:
    """Charge the goods when the order is confirmed, follow a change of its lines, and
    take the charge back when it is cancelled: one entry for the difference between
    what is charged for goods and what should be. Runs in the caller's transaction,
    with the order locked."""
    now = now or timezone.now()
    charged = LedgerEntry.objects.filter(
        order=order, kind=EntryKind.CHARGE, charge_kind=ChargeKind.GOODS
    ).aggregate(n=Coalesce(Sum("amount"), Value(Decimal("0")), output_field=DecimalField()))["n"]
    difference = _goods_target(order) - charged
    if difference == 0:
        return None
    # Stored in English, shown in the reader's language (LedgerEntry.shown_reason).
    if order.status == Status.CANCELLED:
        reason = GOODS_REASONS[2]
    elif charged == 0:
        reason = GOODS_REASONS[0]
    else:
        reason = GOODS_REASONS[1]
    serial = LedgerEntry.objects.filter(order=order, charge_kind=ChargeKind.GOODS).count()
    entry, _created = _write_entry(
        order,
        by=by,
        key=f"goods:{serial}",
        now=now,
        kind=EntryKind.CHARGE,
        charge_kind=ChargeKind.GOODS,
        amount=difference,
        reason=reason,
    )
    return entry


def charge_freight(
    order: Order, *, shipment_id, carrier, tracking_number, freight_cost, at
) -> LedgerEntry | None:
    """The customer's freight for a shipment, charged when it ships: the carrier's
    price, unless the freight terms include delivery or the order ships free. Once per
    shipment. Runs in the shipment's transaction, with the order locked. Orders in
    another currency than the carriers' prices are left to Finance (a timeline note
    says so)."""
    terms = FreightTerms.current()
    data = {"carrier": carrier, "tracking": tracking_number}
    if freight_cost is None or freight_cost <= 0:
        return None
    if order.currency != FreightTerms.CURRENCY:
        timeline.record(order, "freight_by_hand", data=data, created_at=at)
        return None
    if not terms.charge_customer:
        timeline.record(order, "freight_included", data=data, created_at=at)
        return None
    if terms.free_from is not None and order.total >= terms.free_from:
        data["free_from"] = str(terms.free_from)
        timeline.record(order, "freight_free", data=data, created_at=at)
        return None
    entry, _created = _write_entry(
        order,
        by=None,
        key=f"freight:{shipment_id}",
        now=at,
        kind=EntryKind.CHARGE,
        charge_kind=ChargeKind.FREIGHT,
        amount=freight_cost,
        reference=f"{carrier} {tracking_number}"[:100],
    )
    return entry


def add_charge(order_id, *, by, charge_kind, amount, reason="", key, now=None) -> LedgerEntry:
    """Finance charges freight, grants a discount or adjusts (with a reason). A discount
    is entered as a positive amount and lowers the balance."""
    _require_finance(by)
    if charge_kind not in (ChargeKind.FREIGHT, ChargeKind.DISCOUNT, ChargeKind.ADJUSTMENT):
        raise OrderActionError(_("Choose what the charge is for."))
    amount = _amount(amount, allow_negative=charge_kind == ChargeKind.ADJUSTMENT)
    reason = _reason(reason, required=charge_kind != ChargeKind.FREIGHT)
    if charge_kind == ChargeKind.DISCOUNT:
        amount = -amount
    now = now or timezone.now()
    with transaction.atomic():
        order = _lock(order_id)
        if order.status in (Status.CLOSED, Status.CANCELLED, Status.PLACED):
            raise TransitionNotAllowed(
                _("Order %(number)s is %(status)s: no charges can be added.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        entry, _created = _write_entry(
            order,
            by=by,
            key=key,
            now=now,
            kind=EntryKind.CHARGE,
            charge_kind=charge_kind,
            amount=amount,
            reason=reason,
        )
    return entry


@dataclass(frozen=True)
class MoneyMovement:
    """A payment received or a refund paid, as typed."""

    amount: Decimal
    happened_on: date
    reference: str = ""
    method_id: int | None = None
    refund_for: str = ""
    problem_case_id: int | None = None
    reason: str = ""


def _check_movement_date(happened_on, now):
    if happened_on is None:
        raise OrderActionError(_("Enter the date."))
    if happened_on > timezone.localdate(now):
        raise OrderActionError(_("The date cannot be in the future."))


def record_payment(order_id, movement: MoneyMovement, *, by, key, now=None) -> LedgerEntry:
    """A payment received for the order (method, reference, amount, date, who)."""
    _require_finance(by)
    now = now or timezone.now()
    amount = _amount(movement.amount)
    _check_movement_date(movement.happened_on, now)
    reference = _reason(movement.reference, required=False, limit=100)
    method = PaymentMethod.objects.filter(pk=movement.method_id, active=True).first()
    if method is None:
        raise OrderActionError(_("Choose how the customer paid."))
    with transaction.atomic():
        order = _lock(order_id)
        if order.status == Status.CLOSED:
            raise TransitionNotAllowed(
                _("Order %(number)s is closed: its money is settled.") % {"number": order.number}
            )
        entry, _created = _write_entry(
            order,
            by=by,
            key=key,
            now=now,
            kind=EntryKind.PAYMENT,
            amount=amount,
            method=method,
            reference=reference,
            happened_on=movement.happened_on,
        )
    return entry


def record_refund(order_id, movement: MoneyMovement, *, by, key, now=None) -> LedgerEntry:
    """A refund paid to the customer, for a problem case (of this order), the
    cancellation, a return or an overpayment, with the reason."""
    _require_finance(by)
    now = now or timezone.now()
    amount = _amount(movement.amount)
    _check_movement_date(movement.happened_on, now)
    if movement.refund_for not in RefundFor.values:
        raise OrderActionError(_("Choose what the refund is for."))
    reason = _reason(movement.reason)
    reference = _reason(movement.reference, required=False, limit=100)
    with transaction.atomic():
        order = _lock(order_id)
        case_id = None
        if movement.refund_for == RefundFor.PROBLEM_CASE:
            case_id = _problem_case_of(order, movement.problem_case_id)
        if movement.refund_for == RefundFor.CANCELLATION and order.status != Status.CANCELLED:
            raise OrderActionError(_("The order is not cancelled."))
        entry, _created = _write_entry(
            order,
            by=by,
            key=key,
            now=now,
            kind=EntryKind.REFUND,
            amount=amount,
            refund_for=movement.refund_for,
            problem_case_id=case_id,
            reason=reason,
            reference=reference,
            happened_on=movement.happened_on,
        )
    return entry


def _problem_case_of(order, case_id):
    from django.apps import apps

    ProblemCase = apps.get_model("feedback", "ProblemCase")
    if case_id is None or not ProblemCase.objects.filter(pk=case_id, order=order).exists():
        raise OrderActionError(_("Choose the problem case of this order the refund is for."))
    return case_id


def reverse_entry(entry_id, *, by, reason, key, now=None) -> LedgerEntry:
    """A wrong entry is never deleted: a counter-entry of the opposite amount reverses
    it, once, with the reason."""
    _require_finance(by)
    reason = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        order_id = (
            LedgerEntry.objects.filter(pk=entry_id).values_list("order_id", flat=True).first()
        )
        if order_id is None:
            raise OrderActionError(_("No such ledger entry."))
        order = _lock(order_id)
        entry = LedgerEntry.objects.get(pk=entry_id)
        earlier = LedgerEntry.objects.filter(order=order, submission_key=key).first()
        if earlier is not None:
            return earlier
        if order.status == Status.CLOSED:
            raise TransitionNotAllowed(
                _("Order %(number)s is closed: its money is settled.") % {"number": order.number}
            )
        if entry.reverses_id is not None:
            raise OrderActionError(_("A reversal cannot itself be reversed."))
        if LedgerEntry.objects.filter(reverses=entry).exists():
            raise OrderActionError(_("This entry was already reversed."))
        if entry.charge_kind == ChargeKind.GOODS:
            raise OrderActionError(
                _("The goods charge follows the order's lines; it cannot be reversed by hand.")
            )
        reversal, _created = _write_entry(
            order,
            by=by,
            key=key,
            now=now,
            kind=entry.kind,
            charge_kind=entry.charge_kind,
            amount=-entry.amount,
            method=entry.method,
            reference=entry.reference,
            refund_for=entry.refund_for,
            problem_case_id=entry.problem_case_id,
            reason=reason,
            reverses=entry,
        )
    return reversal


# ---------------------------------------------------------------------------
# Invoices


@dataclass(frozen=True)
class InvoiceDetails:
    type_id: int | None
    number: str
    amount: Decimal
    issued_on: date


def record_invoice(order_id, details: InvoiceDetails, document, *, by, key, now=None) -> Invoice:
    """A fapiao issued for the order, with its PDF or scan."""
    _require_finance(by)
    now = now or timezone.now()
    amount = _amount(details.amount)
    number = (details.number or "").strip()
    if not number or len(number) > 40:
        raise OrderActionError(_("Enter the invoice number (at most 40 characters)."))
    _check_movement_date(details.issued_on, now)
    invoice_type = InvoiceType.objects.filter(pk=details.type_id, active=True).first()
    if invoice_type is None:
        raise OrderActionError(_("Choose the invoice type."))
    if document is None:
        raise OrderActionError(_("Attach the invoice's PDF or scan."))
    with transaction.atomic():
        order = _lock(order_id)
        earlier = Invoice.objects.filter(order=order, submission_key=key).first()
        if earlier is not None:
            return earlier
        if order.status in (Status.PLACED, Status.CLOSED):
            raise TransitionNotAllowed(
                _("Order %(number)s is %(status)s: no invoice can be recorded.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        taken = Invoice.objects.filter(type=invoice_type, number=number, voided_at__isnull=True)
        if taken.exists():
            raise OrderActionError(
                _("Invoice %(number)s of this type is already recorded.") % {"number": number}
            )
        invoice = Invoice(
            order=order,
            type=invoice_type,
            number=number,
            amount=amount,
            currency=order.currency,
            issued_on=details.issued_on,
            recorded_by=by,
            recorded_at=now,
            submission_key=key,
        )
        invoice.document.save(document.name, document, save=False)
        try:
            with transaction.atomic():
                invoice.save(force_insert=True)
        except IntegrityError:
            invoice.document.delete(save=False)
            raise OrderActionError(
                _("Invoice %(number)s of this type is already recorded.") % {"number": number}
            ) from None
        timeline.record(
            order,
            "invoice_recorded",
            actor=by,
            data={
                "number": number,
                "type": invoice_type.code,
                "amount": str(amount),
                "currency": order.currency,
            },
            created_at=now,
        )
    return invoice


def void_invoice(invoice_id, *, by, reason, now=None) -> Invoice:
    """A wrong invoice is voided with a reason (the scan is kept)."""
    _require_finance(by)
    reason = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        order_id = Invoice.objects.filter(pk=invoice_id).values_list("order_id", flat=True).first()
        if order_id is None:
            raise OrderActionError(_("No such invoice."))
        order = _lock(order_id)
        invoice = Invoice.objects.select_related("type").get(pk=invoice_id)
        if invoice.voided_at is not None:
            return invoice
        if order.status == Status.CLOSED:
            raise TransitionNotAllowed(
                _("Order %(number)s is closed: its invoices are final.") % {"number": order.number}
            )
        Invoice.objects.filter(pk=invoice.pk).update(
            voided_at=now, voided_by=by, void_reason=reason
        )
        invoice.refresh_from_db()
        timeline.record(
            order,
            "invoice_voided",
            actor=by,
            data={"number": invoice.number, "type": invoice.type.code},
            note=reason,
            created_at=now,
        )
    return invoice


# ---------------------------------------------------------------------------
# The closing request


def open_closing_request(order: Order, *, now=None) -> ClosingRequest:
    """Receipt is confirmed: open the order's closing request for its salesperson (once)
    and start the closing step's clock. Runs in the receipt's transaction."""
    now = now or timezone.now()
    request, created = ClosingRequest.objects.get_or_create(
        order=order,
        defaults={"salesperson_id": order.salesperson_id, "opened_at": now, "step_started_at": now},
    )
    if created:
        # The closing step's target counts from here, not from the delivery.
        Order.objects.filter(pk=order.pk, status=Status.DELIVERED).update(
            step_started_at=now, step_overdue_at=None
        )
        timeline.record(order, "closing_opened", created_at=now)
    return request


def escalate_closing_requests(now=None) -> int:
    """Requests that have waited in the hands they are in (Sales' after receipt or a
    send-back, Finance's after submission) past the closing step's target time are
    escalated to the managers: once per hand-off, claimed with a conditional UPDATE so
    that overlapping sweeps escalate each once. Returns how many were escalated."""
    target = selectors.closing_target()
    if target is None:
        return 0
    now = now or timezone.now()
    late = (
        ClosingRequest.objects.exclude(status=RequestStatus.APPROVED)
        .filter(escalated_at__isnull=True, step_started_at__lte=now - target)
        .values_list("pk", "order_id", "status", "step_started_at")
    )
    escalated = 0
    for pk, order_id, status, since in late:
        with transaction.atomic():
            claimed = ClosingRequest.objects.filter(
                pk=pk, status=status, step_started_at=since, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed:
                holder = "sales" if status in WITH_SALES else "finance"
                timeline.record(
                    order_id,
                    "closing_escalated",
                    data={"with": holder, "since": since.isoformat()},
                    created_at=now,
                )
                escalated += 1
    return escalated


def _lock_request(order_id) -> tuple[Order, ClosingRequest]:
    order = _lock(order_id)
    request = ClosingRequest.objects.filter(order=order).first()
    if request is None:
        raise TransitionNotAllowed(
            _("Order %(number)s has no closing request: receipt is not confirmed yet.")
            % {"number": order.number}
        )
    return order, request


def _expect(request: ClosingRequest, expected):
    """Refuse when the request moved since the user saw it (``expected``: its status then)."""
    if expected and request.status != expected:
        raise OrderChanged(
            _("The closing request was changed meanwhile: it is now %(status)s. Nothing was done.")
            % {"status": request.get_status_display()}
        )


def _take(request: ClosingRequest, name: str, expected=None, **arguments):
    _expect(request, expected)
    method = getattr(request, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("The closing request is %(status)s: this cannot be done now.")
            % {"status": request.get_status_display()}
        )
    method(**arguments)
    try:
        with transaction.atomic():
            request.save()
    except ConcurrentTransition:
        raise OrderChanged(
            _("The closing request was changed meanwhile. Nothing was done; please look again.")
        ) from None


def submit_request(order_id, *, by, note="", expected=None, now=None) -> ClosingRequest:
    """Sales has completed the request (documents, note) and hands it to Finance."""
    _require_sales(by)
    note = _reason(note, required=False, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "submit", expected, by=by, note=note, now=now)
        timeline.record(order, "closing_submitted", actor=by, note=note, created_at=now)
    return request


def add_document(order_id, *, by, kind, upload, note="", key, now=None) -> ClosingDocument:
    """Sales (or Finance) adds a document to the request: payment proof, invoice, other."""
    if by is None or not has_role(by, Role.SALES, Role.FINANCE):
        raise TransitionForbidden(_("Your role may not add documents to a closing request."))
    note = _reason(note, required=False, limit=200)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        earlier = ClosingDocument.objects.filter(request=request, submission_key=key).first()
        if earlier is not None:
            return earlier
        if request.status == RequestStatus.APPROVED:
            raise TransitionNotAllowed(_("The order is closed: its request is final."))
        document = ClosingDocument(
            request=request,
            kind=kind,
            note=note,
            uploaded_by=by,
            uploaded_at=now,
            submission_key=key,
        )
        document.file.save(upload.name, upload, save=False)
        document.save(force_insert=True)
        timeline.record(
            order,
            "closing_document",
            actor=by,
            data={"kind": kind},
            note=note,
            created_at=now,
        )
    return document


def acknowledge_request(order_id, *, by, expected=None, now=None) -> ClosingRequest:
    """Finance takes the submitted request (who and when are recorded)."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "acknowledge", expected, by=by, now=now)
        timeline.record(order, "closing_acknowledged", actor=by, created_at=now)
    return request


def send_back(order_id, *, by, reason, expected=None, now=None) -> ClosingRequest:
    """Finance returns the request to Sales' queue with what is missing."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    reason = _reason(reason, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _take(request, "send_back", expected, reason=reason, now=now)
        timeline.record(order, "closing_sent_back", actor=by, note=reason, created_at=now)
    return request


def override_item(order_id, *, by, key, reason, now=None) -> ChecklistOverride:
    """A manager decides, in writing, that one checklist item need not pass."""
    _require_manager(by)
    reason = _reason(reason, limit=NOTE_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        if request.status == RequestStatus.APPROVED:
            raise TransitionNotAllowed(_("The order is closed: its request is final."))
        item = next((c for c in selectors.checklist(order, request) if c.check.key == key), None)
        if item is None or not item.check.required:
            raise OrderActionError(_("No such checklist item."))
        if item.override is not None:
            return item.override
        override = ChecklistOverride.objects.create(
            request=request, key=key, reason=reason, by=by, at=now
        )
        timeline.record(
            order,
            "closing_override",
            actor=by,
            data={"item": str(item.check.label)},
            note=reason,
            created_at=now,
        )
    return override


def approve(order_id, *, by, expected=None, now=None) -> ClosingRequest:
    """Every item passes (or was overridden): the order becomes closed and the customer
    gets a short thank-you email."""
    _require_finance(by)
    if by is None:
        raise TransitionForbidden(_("Only Finance may do this."))
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock_request(order_id)
        _expect(request, expected)
        failing = selectors.failing(selectors.checklist(order, request))
        if request.status != RequestStatus.IN_REVIEW:
            _take(request, "approve", None, by=by, now=now)  # refused: wrong state
        if failing:
            raise TransitionNotAllowed(
                _("The order cannot be closed yet: %(items)s.")
                % {"items": "; ".join(str(item.check.label) for item in failing)}
            )
        # Order.close's condition asks the same checklist (finance's gate).
        close_order(order.pk, by=by, expected_status=Status.DELIVERED)
        _take(request, "approve", None, by=by, now=now)
        order.refresh_from_db()
        notify_customer(order, NotificationKind.ORDER_CLOSED)
    return request
