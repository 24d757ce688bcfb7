"""The ledger: every charge, payment and refund of an order, the account the database
sums from them, and the reversal of a wrong entry by a counter-entry."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import timeline
from orders.models import Order, Status
from orders.services import (
    OrderActionError,
    TransitionNotAllowed,
)
from orders.signals import refund_paid

from ..models import (
    GOODS_CHARGE_REASONS,
    Account,
    ChargeKind,
    EntryKind,
    FreightTerms,
    LedgerEntry,
    PaymentMethod,
    RefundFor,
)
from ._common import (
    MAX_AMOUNT,
    MONEY_FIELD,
    _amount,
    _lock,
    _reason,
    _require_finance,
)

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
    if order.replaces_id is not None:
        timeline.record(order, "freight_replacement", data=data, created_at=at)
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


def credit_return(
    order: Order, *, return_id, rma, goods: Decimal, include_freight: bool, at
) -> LedgerEntry | None:
    """A return ends in a refund: the customer is credited the goods' amount (as the
    inspection computed it) and, when the return's reason says so, the freight they
    were charged. The credit makes the balance negative: a refund due, which Finance
    pays (record_refund). Once per return. Runs in the inspection's transaction."""
    freight = Decimal("0")
    if include_freight:
        freight = LedgerEntry.objects.filter(
            order=order, kind=EntryKind.CHARGE, charge_kind=ChargeKind.FREIGHT
        ).aggregate(n=Coalesce(Sum("amount"), Value(Decimal("0")), output_field=MONEY_FIELD))["n"]
    amount = (goods + max(freight, Decimal("0"))).quantize(Decimal("0.01"))
    if amount <= 0:
        return None
    entry, _created = _write_entry(
        order,
        by=None,
        key=f"return:{return_id}",
        now=at,
        kind=EntryKind.CHARGE,
        charge_kind=ChargeKind.RETURN,
        amount=-amount,
        reference=rma[:100],
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
        if _created:
            refund_paid.send(
                sender=Order,
                order=order,
                entry_id=entry.pk,
                refund_for=entry.refund_for,
                amount=entry.amount,
                balance=Account.objects.get(order=order).balance,
                at=now,
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
