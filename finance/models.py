"""Finance's records: the order's ledger (charges, payments, refunds), its invoices,
its account (the balance the database keeps), and the closing request that Sales
submits and Finance works until the order is closed.

Nothing here is ever deleted: a wrong ledger entry is reversed by a counter-entry,
a wrong invoice is voided with a reason, and the timeline keeps every change.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.models import Order

MONEY = {"max_digits": 14, "decimal_places": 2}


class RefusedDeletion(Exception):
    """Finance records are never deleted: reverse, void or send back instead."""


class _KeptQuerySet(models.QuerySet):
    def delete(self):
        raise RefusedDeletion


class _Kept(models.Model):
    objects = _KeptQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise RefusedDeletion


RECORDED_BY = _("recorded by")


def _who(related_name="+", *, null=False, verbose_name=RECORDED_BY):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name=related_name,
        verbose_name=verbose_name,
    )


class PaymentMethod(models.Model):
    """How a customer may pay (bank transfer, Alipay, WeChat Pay...): the admin's list."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name


class InvoiceType(models.Model):
    """A kind of invoice (e.g. the general and the special VAT fapiao)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("invoice type")
        verbose_name_plural = _("invoice types")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    PAYMENT = "payment", _("Payment received")
    REFUND = "refund", _("Refund paid")


class ChargeKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    FREIGHT = "freight", _("Freight")
    DISCOUNT = "discount", _("Discount")
    ADJUSTMENT = "adjustment", pgettext_lazy("money", "Adjustment")
    RETURN = "return", _("Goods returned")


class FreightTerms(models.Model):
    """What the customer pays for freight, set in the admin (one row): the carrier's
    price of each shipment, charged when it ships, unless freight is included or the
    order's goods reach the free-freight amount. Carrier prices are in yuan, so only
    orders in CNY are charged by themselves; Finance charges other orders by hand."""

    CURRENCY = "CNY"

    charge_customer = models.BooleanField(
        _("charge freight to the customer"),
        default=True,
        help_text=_("Untick when prices include delivery: shipments then add no charge."),
    )
    free_from = models.DecimalField(
        _("free freight from (CNY)"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Orders whose goods reach this amount ship free. Empty: none ships free."),
    )

    class Meta:
        verbose_name = _("freight terms")
        verbose_name_plural = _("freight terms")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="one_freight_terms"),
            models.CheckConstraint(
                condition=Q(free_from__isnull=True) | Q(free_from__gt=0),
                name="freight_free_from_positive",
            ),
        ]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "FreightTerms":
        terms, _created = cls.objects.get_or_create(pk=1)
        return terms


class RefundFor(models.TextChoices):
    PROBLEM_CASE = "problem_case", _("Problem case")
    CANCELLATION = "cancellation", _("Cancellation")
    RETURN = "return", _("Return")
    OVERPAYMENT = "overpayment", _("Overpayment")


# The reasons the system gives its goods charges: stored in English, shown translated.
GOODS_CHARGE_REASONS = {
    "Goods as confirmed": _("Goods as confirmed"),
    "Order lines changed": _("Order lines changed"),
    "Order cancelled": _("Order cancelled"),
}


class LedgerEntry(_Kept):
    """One movement of money on an order, in the order's currency. The balance is
    charges - payments + refunds; a reversal is an entry of the same kind with the
    opposite amount that names the entry it reverses."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    charge_kind = models.CharField(
        _("charge"), max_length=12, choices=ChargeKind.choices, blank=True
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.ForeignKey(
        PaymentMethod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment method"),
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    happened_on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    refund_for = models.CharField(
        _("refund for"), max_length=14, choices=RefundFor.choices, blank=True
    )
    # A refund for a problem case names it (a case of the same order).
    problem_case = models.ForeignKey(
        "feedback.ProblemCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("problem case"),
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    recorded_by = _who(null=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # The form's one-time token: a resubmitted form finds the entry it already wrote.
    submission_key = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["recorded_at", "pk"]
        indexes = [
            models.Index(fields=["order", "kind"], name="ledger_order_kind"),
            models.Index(fields=["recorded_at"], name="ledger_recorded_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "submission_key"], name="ledger_one_entry_per_submission"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            # Payments and refunds are positive, unless they reverse an earlier one.
            models.CheckConstraint(
                condition=Q(kind=EntryKind.CHARGE)
                | Q(amount__gt=0, reverses__isnull=True)
                | Q(amount__lt=0, reverses__isnull=False),
                name="ledger_money_moves_are_positive",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.CHARGE, charge_kind__in=ChargeKind.values)
                | (~Q(kind=EntryKind.CHARGE) & Q(charge_kind="")),
                name="ledger_charge_has_a_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.PAYMENT) | Q(method__isnull=False),
                name="ledger_payment_has_a_method",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.REFUND) | Q(refund_for__in=RefundFor.values),
                name="ledger_refund_says_what_for",
            ),
        ]

    def __str__(self):
        return f"{self.order_id} · {self.get_kind_display()} {self.amount} {self.currency}"

    @property
    def effect(self) -> Decimal:
        """The entry's effect on the balance (what the customer owes)."""
        return -self.amount if self.kind == EntryKind.PAYMENT else self.amount

    @property
    def shown_reason(self) -> str:
        if self.charge_kind == ChargeKind.GOODS:
            return str(GOODS_CHARGE_REASONS.get(self.reason, self.reason))
        return self.reason

    @property
    def label(self) -> str:
        if self.kind == EntryKind.CHARGE:
            return str(ChargeKind(self.charge_kind).label)
        return str(EntryKind(self.kind).label)


class Account(models.Model):
    """An order's running totals, recomputed by the database from its ledger after
    every entry (under the order's row lock). ``since`` is when the balance last left
    zero: the age of an unsettled balance."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="account", verbose_name=_("order")
    )
    currency = models.CharField(_("currency"), max_length=3)
    charged = models.DecimalField(_("charged"), default=Decimal("0"), **MONEY)
    paid = models.DecimalField(_("paid"), default=Decimal("0"), **MONEY)
    refunded = models.DecimalField(_("refunded"), default=Decimal("0"), **MONEY)
    balance = models.DecimalField(_("balance"), default=Decimal("0"), **MONEY)
    since = models.DateTimeField(_("unsettled since"), null=True, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # The unsettled balances: a few among a million settled accounts.
            models.Index(fields=["since"], condition=~Q(balance=0), name="account_unsettled"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance=models.F("charged") - models.F("paid") + models.F("refunded")),
                name="account_balance_adds_up",
            )
        ]

    def __str__(self):
        return f"{self.order_id}: {self.balance} {self.currency}"


def invoice_path(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"finance/invoices/{instance.order_id}/{instance.submission_key}.{extension}"


def document_path(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"finance/documents/{instance.request_id}/{instance.submission_key}.{extension}"


class Invoice(_Kept):
    """A fapiao issued for the order. A wrong one is voided with a reason, never deleted."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("order")
    )
    type = models.ForeignKey(
        InvoiceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("invoice type")
    )
    number = models.CharField(_("invoice number"), max_length=40)
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    currency = models.CharField(_("currency"), max_length=3)
    issued_on = models.DateField(_("issue date"))
    document = models.FileField(_("PDF or scan"), upload_to=invoice_path, max_length=200)
    recorded_by = _who()
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = _who(null=True, verbose_name=_("voided by"))
    void_reason = models.CharField(_("why voided"), max_length=300, blank=True)
    submission_key = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "number"],
                condition=Q(voided_at__isnull=True),
                name="invoice_number_unique_per_type",
            ),
            models.UniqueConstraint(
                fields=["order", "submission_key"], name="invoice_one_per_submission"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="voided_invoice_has_a_reason",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.number}"

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None


class RequestStatus(models.TextChoices):
    OPEN = "open", _("With Sales")
    SUBMITTED = "submitted", _("To acknowledge")
    IN_REVIEW = "in_review", _("In review")
    SENT_BACK = "sent_back", _("Sent back to Sales")
    APPROVED = "approved", _("Approved: order closed")


WITH_SALES = [RequestStatus.OPEN, RequestStatus.SENT_BACK]


class ClosingRequest(ConcurrentTransitionMixin, _Kept):
    """Step 7's hand-off: opened by itself when the customer's receipt is confirmed,
    completed and submitted by Sales, acknowledged and worked by Finance, sent back
    with a reason or approved (which closes the order)."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="closing_request", verbose_name=_("order")
    )
    status = FSMField(
        _("status"),
        default=RequestStatus.OPEN,
        choices=RequestStatus.choices,
        protected=True,
        db_index=True,
    )
    salesperson = _who("closing_requests", null=True, verbose_name=_("salesperson"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    # When the request reached the hands it is in now (Sales' or Finance's).
    step_started_at = models.DateTimeField(_("waiting since"), default=timezone.now)
    sales_note = models.TextField(_("note from Sales"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = _who(null=True, verbose_name=_("submitted by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = _who(null=True, verbose_name=_("acknowledged by"))
    sent_back_at = models.DateTimeField(_("sent back"), null=True, blank=True)
    sent_back_reason = models.TextField(_("why sent back"), blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = _who(null=True, verbose_name=_("approved by"))
    # Set once when the request has waited past the closing step's target time in the
    # hands it is in now (the managers are told); cleared when it changes hands.
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("closing request")
        verbose_name_plural = _("closing requests")
        ordering = ["step_started_at"]
        indexes = [
            models.Index(
                fields=["status", "step_started_at"],
                condition=~Q(status="approved"),
                name="closing_request_open",
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_status_display()}"

    def _hand_over(self, now):
        self.step_started_at = now
        self.escalated_at = None

    @transition(
        field=status,
        source=[RequestStatus.OPEN, RequestStatus.SENT_BACK],
        target=RequestStatus.SUBMITTED,
    )
    def submit(self, *, by, note, now):
        self.submitted_at, self.submitted_by, self.sales_note = now, by, note
        self._hand_over(now)

    @transition(field=status, source=RequestStatus.SUBMITTED, target=RequestStatus.IN_REVIEW)
    def acknowledge(self, *, by, now):
        self.acknowledged_at, self.acknowledged_by = now, by
        self._hand_over(now)

    @transition(
        field=status,
        source=[RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW],
        target=RequestStatus.SENT_BACK,
    )
    def send_back(self, *, reason, now):
        self.sent_back_at, self.sent_back_reason = now, reason
        self.acknowledged_at = self.acknowledged_by = None
        self._hand_over(now)

    @transition(field=status, source=RequestStatus.IN_REVIEW, target=RequestStatus.APPROVED)
    def approve(self, *, by, now):
        self.approved_at, self.approved_by = now, by
        self._hand_over(now)

    @property
    def with_sales(self) -> bool:
        return self.status in WITH_SALES


class DocumentKind(models.TextChoices):
    PAYMENT_PROOF = "payment_proof", _("Payment proof")
    INVOICE = "invoice", _("Invoice")
    OTHER = "other", _("Other")


class ClosingDocument(_Kept):
    """A document Sales adds to the closing request (payment proof, invoice copy...).
    The documents the system already has (receipt, proof of delivery, packing slip,
    labels, problem cases) are linked from the checklist instead of copied."""

    request = models.ForeignKey(
        ClosingRequest,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("closing request"),
    )
    kind = models.CharField(_("document"), max_length=14, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = _who(verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    submission_key = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("closing document")
        verbose_name_plural = _("closing documents")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "submission_key"], name="document_one_per_submission"
            )
        ]

    def __str__(self):
        return f"{self.request} · {self.get_kind_display()}"


class ChecklistOverride(_Kept):
    """A manager's written decision that one checklist item need not pass."""

    request = models.ForeignKey(
        ClosingRequest,
        on_delete=models.PROTECT,
        related_name="overrides",
        verbose_name=_("closing request"),
    )
    key = models.CharField(_("checklist item"), max_length=40)
    reason = models.TextField(_("reason"))
    by = _who(verbose_name=_("manager"))
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("checklist override")
        verbose_name_plural = _("checklist overrides")
        constraints = [
            models.UniqueConstraint(fields=["request", "key"], name="one_override_per_item"),
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.request} · {self.key}"
