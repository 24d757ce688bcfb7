"""Invoices (fapiao): recorded with their document, voided with a reason."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import timeline
from orders.models import Status
from orders.services import (
    OrderActionError,
    TransitionNotAllowed,
)

from ..models import (
    Invoice,
    InvoiceType,
)
from ._common import (
    _amount,
    _lock,
    _reason,
    _require_finance,
)
from .ledger import _check_movement_date

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
