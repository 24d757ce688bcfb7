"""Returns and exchanges: the reasons and their windows, the request and its RMA,
its lines, the parcel back's events, the photos and the return address."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.models import DeliveryWindow, Order, OrderLine
from orders.roles import Role, has_role

from .cases import CustomerPhoto

# ---------------------------------------------------------------------------
# Returns and exchanges


class ReturnReason(models.Model):
    """Why a customer returns goods, and for how many days after delivery they may
    (the admin's list, in three languages)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=80)
    window_days = models.PositiveSmallIntegerField(
        _("return window (days after delivery)"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # The refund rules: whether the freight the customer paid is refunded with the
    # goods (the seller's fault), and the restocking fee kept from the goods' refund.
    refund_freight = models.BooleanField(
        _("refund the freight too"),
        default=False,
        help_text=_("For reasons that are the seller's fault: damaged, wrong or missing goods."),
    )
    restocking_fee = models.DecimalField(
        _("restocking fee (percent of the goods)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("return reason")
        verbose_name_plural = _("return reasons")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_days__gte=1, window_days__lte=365),
                name="return_window_in_range",
            ),
            models.CheckConstraint(
                condition=Q(restocking_fee__gte=0, restocking_fee__lte=100),
                name="restocking_fee_in_range",
            ),
        ]

    def __str__(self):
        return self.name


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("return", "Requested")
    APPROVED = "approved", pgettext_lazy("return", "Approved")
    REFUSED = "refused", pgettext_lazy("return", "Refused")
    WITHDRAWN = "withdrawn", pgettext_lazy("return", "Withdrawn")
    IN_TRANSIT = "in_transit", pgettext_lazy("return", "On its way back")
    RECEIVED = "received", pgettext_lazy("return", "Received")
    INSPECTED = "inspected", pgettext_lazy("return", "Inspected")
    REFUNDED = "refunded", pgettext_lazy("return", "Refunded")
    REPLACED = "replaced", pgettext_lazy("return", "Replaced")
    CLOSED = "closed", pgettext_lazy("return", "Completed")


# A return in these states keeps the order from closing (finance's checklist), and an
# order has at most one of them at a time.
OPEN_RETURN_STATUSES = [
    ReturnStatus.REQUESTED,
    ReturnStatus.APPROVED,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
]
# Approved returns whose goods are expected at the warehouse (unless the customer
# keeps them: feedback.selectors.KEEPS).
AWAITING_GOODS = [ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT]


class ReturnOutcome(models.TextChoices):
    REFUND = "refund", _("Refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    PARTIAL_REFUND = "partial_refund", _("Keep the goods with a partial refund")


# Outcomes that end with money back to the customer (Finance pays the refund).
REFUND_OUTCOMES = [ReturnOutcome.REFUND, ReturnOutcome.PARTIAL_REFUND]


class Disposition(models.TextChoices):
    """What the inspection does with each returned unit."""

    RESTOCK = "restock", _("Back to stock")
    WRITE_OFF = "write_off", _("Written off")
    REPAIR = "repair", _("Sent to repair")


class RequestChannel(models.TextChoices):
    CUSTOMER = "customer", _("By the customer on the status page")
    PHONE = "phone", _("By phone (recorded by Sales)")


def _warehouse(instance, user) -> bool:
    return has_role(user, Role.WAREHOUSE)


def _second_warehouse_person(instance, user) -> bool:
    """The four-eyes rule: who received the parcel does not inspect it."""
    return has_role(user, Role.WAREHOUSE) and user.pk != instance.received_by_id


def _sales(instance, user) -> bool:
    return has_role(user, Role.SALES)


class ReturnRequest(ConcurrentTransitionMixin, models.Model):
    """A customer's request to return or exchange goods of a delivered order, and,
    once Sales approves it, the return authorisation (RMA) it becomes."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order")
    )
    status = FSMField(
        _("status"),
        default=ReturnStatus.REQUESTED,
        choices=ReturnStatus.choices,
        protected=True,
        db_index=True,
    )
    # Given at approval: the order's number and the return's serial ("R20261201-0006-1").
    rma_number = models.CharField(
        _("RMA number"), max_length=30, unique=True, null=True, blank=True
    )
    reason = models.ForeignKey(
        ReturnReason, on_delete=models.PROTECT, related_name="+", verbose_name=_("reason")
    )
    details = models.TextField(_("details"), blank=True)
    channel = models.CharField(_("how it was asked"), max_length=10, choices=RequestChannel.choices)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("owner"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    outcome = models.CharField(
        _("what happens next"), max_length=14, choices=ReturnOutcome.choices, blank=True
    )
    # What Sales tells the customer: the instructions with an approval, the reason
    # with a refusal.
    answer = models.TextField(_("answer to the customer"), blank=True)
    submission_key = models.CharField(max_length=64, editable=False)
    # The parcel back: its carrier and tracking number, as the customer (or Sales for
    # them) gave them.
    return_carrier = models.CharField(_("return carrier"), max_length=60, blank=True)
    return_tracking = models.CharField(_("return tracking number"), max_length=40, blank=True)
    sent_at = models.DateTimeField(_("sent back"), null=True, blank=True)
    # A carrier collects the parcel (instead of the customer sending it): the day and
    # time window Sales agreed with the customer, and Logistics' booking.
    pickup_date = models.DateField(_("pickup date"), null=True, blank=True)
    pickup_window = models.CharField(
        _("pickup window"), max_length=10, choices=DeliveryWindow.choices, blank=True
    )
    pickup_booked_at = models.DateTimeField(_("pickup booked"), null=True, blank=True)
    pickup_booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup booked by"),
    )
    # The carrier reported a problem with the parcel back (lost, damaged, delayed...):
    # Sales looks after it with the customer.
    parcel_problem = models.BooleanField(_("problem with the parcel back"), default=False)
    # The customer was reminded to send the goods (once: orders.ReturnStep "sending").
    reminded_at = models.DateTimeField(_("reminded to send"), null=True, blank=True)
    # The warehouse's receipt against the RMA, and the inspection by a second person.
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    receipt_note = models.TextField(_("what arrived"), blank=True)
    # Other goods or other quantities than approved arrived: Sales checks with the customer.
    mismatch = models.BooleanField(_("not what was approved"), default=False)
    inspected_at = models.DateTimeField(_("inspected"), null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspected by"),
    )
    inspection_note = models.TextField(_("inspection note"), blank=True)
    # What the customer gets back for the goods (for a refund), as sent to Finance.
    refund_amount = models.DecimalField(
        _("refund"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # What Finance paid back (the goods, and the freight when the reason refunds it).
    refund_paid = models.DecimalField(
        _("refund paid"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # An exchange's new goods: the replacement order placed at the inspection.
    replacement = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_return",
        verbose_name=_("replacement order"),
    )
    settled_at = models.DateTimeField(_("completed"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        ordering = ["requested_at", "pk"]
        indexes = [
            models.Index(
                fields=["requested_at", "id"],
                condition=Q(status="requested"),
                name="return_to_decide",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=OPEN_RETURN_STATUSES),
                name="one_open_return_per_order",
            ),
            models.UniqueConstraint(
                fields=["order", "submission_key"], name="one_return_per_submission"
            ),
            models.CheckConstraint(
                condition=Q(status="requested")
                | Q(status="withdrawn")
                | (Q(status="refused") & Q(decided_at__isnull=False) & ~Q(answer=""))
                | (Q(decided_at__isnull=False) & ~Q(outcome="") & Q(rma_number__isnull=False)),
                name="decided_return_is_complete",
            ),
        ]

    def __str__(self):
        return self.rma_number or f"{self.order.number} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RETURN_STATUSES

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.APPROVED)
    def approve(self, *, by, outcome, answer, rma_number, now, pickup=None):
        self.decided_at, self.decided_by = now, by
        self.outcome, self.answer, self.rma_number = outcome, answer, rma_number
        if pickup is not None:
            self.pickup_date, self.pickup_window = pickup

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REFUSED)
    def refuse(self, *, by, answer, now):
        self.decided_at, self.decided_by, self.answer = now, by, answer

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.WITHDRAWN)
    def withdraw(self, *, now):
        self.decided_at = now

    @transition(field=status, source=AWAITING_GOODS, target=ReturnStatus.IN_TRANSIT)
    def send(self, *, carrier, tracking, now):
        self.return_carrier, self.return_tracking, self.sent_at = carrier, tracking, now

    @transition(
        field=status,
        source=AWAITING_GOODS,
        target=ReturnStatus.RECEIVED,
        permission=_warehouse,
    )
    def receive(self, *, by, note, mismatch, now):
        self.received_at, self.received_by = now, by
        self.receipt_note, self.mismatch = note, mismatch

    @transition(
        field=status,
        source=ReturnStatus.RECEIVED,
        target=ReturnStatus.INSPECTED,
        permission=_second_warehouse_person,
    )
    def inspect(self, *, by, note, refund_amount, now):
        self.inspected_at, self.inspected_by = now, by
        self.inspection_note, self.refund_amount = note, refund_amount

    # Finance paid the refund (finance.services.record_refund, through a signal): after
    # the inspection, or at once when the customer keeps the goods.
    @transition(
        field=status,
        source=[ReturnStatus.INSPECTED, ReturnStatus.APPROVED],
        target=ReturnStatus.REFUNDED,
    )
    def refunded(self, *, amount, now):
        self.refund_paid, self.settled_at = amount, now

    # An exchange: the replacement order is placed as the inspection is recorded.
    @transition(field=status, source=ReturnStatus.INSPECTED, target=ReturnStatus.REPLACED)
    def replace(self, *, replacement, now):
        self.replacement, self.settled_at = replacement, now

    @transition(
        field=status, source=ReturnStatus.INSPECTED, target=ReturnStatus.CLOSED, permission=_sales
    )
    def settle(self, *, by, now):
        self.settled_at, self.settled_by = now, by


class ReturnLine(models.Model):
    """How many units of an order line the customer asks to return, and how many
    Sales approved."""

    request = models.ForeignKey(
        ReturnRequest, on_delete=models.PROTECT, related_name="lines", verbose_name=_("return")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity asked"))
    approved_quantity = models.PositiveIntegerField(_("quantity approved"), null=True, blank=True)
    received_quantity = models.PositiveIntegerField(_("quantity received"), null=True, blank=True)
    restocked = models.PositiveIntegerField(_("back to stock"), default=0)
    written_off = models.PositiveIntegerField(_("written off"), default=0)
    to_repair = models.PositiveIntegerField(_("sent to repair"), default=0)

    class Meta:
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "line"], name="one_return_line_per_line"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1)
                & (Q(approved_quantity__isnull=True) | Q(approved_quantity__lte=F("quantity"))),
                name="return_line_quantities_valid",
            ),
            models.CheckConstraint(
                condition=Q(restocked=0, written_off=0, to_repair=0)
                | Q(received_quantity__gte=F("restocked") + F("written_off") + F("to_repair")),
                name="return_line_inspected_within_received",
            ),
        ]

    def __str__(self):
        return f"{self.line.sku} × {self.quantity}"


# A carrier's event types that are a problem for the parcel (as logistics reads them).
PARCEL_PROBLEMS = {"delayed", "failed_attempt", "lost", "damaged", "address_problem", "returned"}
PARCEL_EVENT_TYPES = {
    "in_transit": _("In transit"),
    "out_for_delivery": _("Out for delivery"),
    "delivered": _("Delivered"),
    "delayed": _("Delayed"),
    "failed_attempt": _("Delivery attempt failed"),
    "lost": _("Lost"),
    "damaged": _("Damaged"),
    "address_problem": _("Address problem"),
    "returned": _("Returned to sender"),
}


class ReturnParcelEvent(models.Model):
    """A carrier's tracking event for the parcel a customer sent back (from the
    carrier webhook, by the return's tracking number)."""

    request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.PROTECT,
        related_name="parcel_events",
        verbose_name=_("return"),
    )
    carrier = models.CharField(_("carrier"), max_length=30)
    carrier_event_id = models.CharField(_("carrier's event id"), max_length=100)
    type = models.CharField(_("event"), max_length=30)
    happened_at = models.DateTimeField(_("when"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("return parcel event")
        verbose_name_plural = _("return parcel events")
        ordering = ["happened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "carrier", "carrier_event_id"],
                name="one_return_parcel_event_per_carrier_event",
            )
        ]

    def __str__(self):
        return f"{self.request} · {self.type}"

    @property
    def label(self) -> str:
        return str(PARCEL_EVENT_TYPES.get(self.type, self.type))

    @property
    def is_problem(self) -> bool:
        return self.type in PARCEL_PROBLEMS


class ReturnPhoto(CustomerPhoto):
    """A photo the customer sent with a return request; served only to staff."""

    FOLDER = "return-photos"

    request = models.ForeignKey(
        ReturnRequest, on_delete=models.PROTECT, related_name="photos", verbose_name=_("return")
    )

    class Meta(CustomerPhoto.Meta):
        verbose_name = _("return photo")
        verbose_name_plural = _("return photos")

    def __str__(self):
        return f"{self.request} · {self.pk}"

    @property
    def order_number(self) -> str:
        return self.request.order.number


class ReturnAddress(models.Model):
    """Where customers send returned goods (one row, set in the admin): printed on the
    return label."""

    recipient = models.CharField(_("recipient"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30)
    province = models.CharField(_("province"), max_length=60)
    city = models.CharField(_("city"), max_length=60)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("return address")
        verbose_name_plural = _("return address")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="one_return_address")]

    def __str__(self):
        return f"{self.recipient} · {self.city}"

    @property
    def address(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.street}"

    @classmethod
    def current(cls) -> "ReturnAddress | None":
        return cls.objects.filter(pk=1).first()
