"""The order spine: customers, products, orders, lines, the timeline and the process."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .roles import Role


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class DeliveryWindow(models.TextChoices):
    ANY = "any", _("Any time")
    MORNING = "morning", _("Morning (09:00–12:00)")
    AFTERNOON = "afternoon", _("Afternoon (12:00–18:00)")
    EVENING = "evening", _("Evening (18:00–21:00)")


def format_address(province, city, district, street) -> str:
    """One line, as written in China; a municipality's city repeats its province."""
    parts = [province, "" if city == province else city, district, street]
    return " ".join(p for p in parts if p)


# Fixed here (not read from settings) so migrations do not depend on the environment.
LANGUAGE_CHOICES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    language = models.CharField(
        _("language"), max_length=10, choices=LANGUAGE_CHOICES, default="zh-hans"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        # Customers are looked up by email case-insensitively (email__iexact).
        indexes = [models.Index(Upper("email"), name="orders_customer_email_upper")]

    def __str__(self):
        return self.name


class Address(models.Model):
    """A delivery address a customer has used; orders copy it when they are placed."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="addresses", verbose_name=_("customer")
    )
    recipient = models.CharField(_("recipient"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32)
    country = models.CharField(_("country"), max_length=2, default="CN")
    province = models.CharField(_("province"), max_length=60)
    city = models.CharField(_("city"), max_length=60)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self):
        return format_address(self.province, self.city, self.district, self.street)


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="product_price_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.sku} · {self.name}"


class OrderSequence(models.Model):
    """The last order number handed out on one local day (see services.next_order_number)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day}: {self.last}"


class Status(models.TextChoices):
    PLACED = "placed", _("Placed")
    CONFIRMED = "confirmed", _("Confirmed")
    BACKORDERED = "backordered", _("Backordered")
    PICKED = "picked", _("Picked")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = [s for s in Status.values if s not in (Status.CLOSED, Status.CANCELLED)]


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class OrderQuerySet(models.QuerySet):
    def delete(self):
        raise OrderDeletionRefused


class OrderDeletionRefused(Exception):
    """Orders are never deleted; cancel them instead."""


class Order(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True, editable=False)
    status = FSMField(
        _("status"), default=Status.PLACED, choices=Status.choices, protected=True, db_index=True
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_sold",
        verbose_name=_("salesperson"),
    )
    # The contact details typed with this order belong to it: its emails go to this
    # address and greet this name, whichever customer the order is filed under (an
    # earlier customer with the same phone may be someone else; Sales decides).
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_language = models.CharField(
        _("contact language"), max_length=10, choices=LANGUAGE_CHOICES, blank=True
    )
    # The delivery address is copied onto the order so later edits of the
    # customer's address book never change where a placed order goes.
    delivery_recipient = models.CharField(_("recipient"), max_length=120)
    delivery_phone = models.CharField(_("recipient phone"), max_length=32)
    delivery_country = models.CharField(_("country"), max_length=2, default="CN")
    delivery_province = models.CharField(_("province"), max_length=60)
    delivery_city = models.CharField(_("city"), max_length=60)
    delivery_district = models.CharField(_("district"), max_length=60, blank=True)
    delivery_street = models.CharField(_("street address"), max_length=200)
    delivery_postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    requested_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    requested_window = models.CharField(
        _("delivery window"),
        max_length=10,
        choices=DeliveryWindow.choices,
        default=DeliveryWindow.ANY,
    )
    special_instructions = models.TextField(_("special instructions"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    public_token = models.CharField(
        max_length=64, default=new_public_token, editable=False, unique=True
    )
    # Set by the order forms: a resubmitted form (double click, refresh, retry) finds
    # the order it already created instead of creating another.
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    # Sales verifies the contact details and the address before confirming.
    contact_verified_at = models.DateTimeField(_("contact verified"), null=True, blank=True)
    address_verified_at = models.DateTimeField(_("address verified"), null=True, blank=True)
    promised_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    callback_requested_at = models.DateTimeField(
        _("customer asked for a call"), null=True, blank=True
    )
    # The clock of the current process step: when the order entered its state,
    # and when the deadline sweep found it late (once per state).
    step_started_at = models.DateTimeField(_("step started"), default=timezone.now)
    step_overdue_at = models.DateTimeField(_("step overdue since"), null=True, blank=True)
    # Set by the warehouse's review gate (a second person checked the packed goods);
    # logistics may ship only a reviewed order.
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    # The customer agreed to receive the available goods first and the rest later.
    partial_agreed_at = models.DateTimeField(
        _("customer agreed to a partial delivery"), null=True, blank=True
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        permissions = [
            ("confirm_order", _("Can confirm orders")),
            ("cancel_order", _("Can cancel orders")),
            ("pick_order", _("Can mark orders picked")),
            ("backorder_order", _("Can backorder orders and release them")),
            ("ship_order", _("Can ship orders")),
            ("deliver_order", _("Can mark orders delivered")),
            ("close_order", _("Can close orders")),
            ("comment_order", _("Can comment on orders")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_not_negative"
            )
        ]
        indexes = [models.Index(fields=["status", "step_started_at"])]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("order_detail", args=[self.number])

    def delete(self, *args, **kwargs):
        raise OrderDeletionRefused

    def get_public_url(self):
        """The customer's status link: the order number plus its unguessable secret."""
        return reverse("public_status", args=[self.number, self.public_token])

    @property
    def delivery_address(self) -> str:
        return format_address(
            self.delivery_province, self.delivery_city, self.delivery_district, self.delivery_street
        )

    @property
    def is_verified(self) -> bool:
        return bool(self.contact_verified_at and self.address_verified_at)

    def _enter_step(self):
        self.step_started_at = timezone.now()
        self.step_overdue_at = None

    # The state machine. Each transition states who may take it; the services in
    # orders/services.py lock the row, check, call these and write the timeline.
    @transition(
        field=status,
        source=Status.PLACED,
        target=Status.CONFIRMED,
        permission="orders.confirm_order",
        conditions=[lambda order: order.is_verified],
        custom={"label": _("Confirm order"), "style": "primary", "form": "confirm"},
    )
    def confirm(self, promised_date=None):
        self.promised_date = promised_date
        self._enter_step()

    @transition(
        field=status,
        source=Status.CONFIRMED,
        target=Status.BACKORDERED,
        permission="orders.backorder_order",
        custom={"label": _("Backorder (stock short)"), "style": "warning", "needs_note": True},
    )
    def backorder(self):
        self._enter_step()

    @transition(
        field=status,
        source=Status.BACKORDERED,
        target=Status.CONFIRMED,
        permission="orders.backorder_order",
        custom={"label": _("Stock available again"), "style": "primary"},
    )
    def release_backorder(self):
        self._enter_step()

    # Picking is confirmed line by line on the warehouse's pick list, which takes
    # this transition when the last line is picked ("via": no generic button).
    @transition(
        field=status,
        source=Status.CONFIRMED,
        target=Status.PICKED,
        permission="orders.pick_order",
        custom={"label": _("Mark picked"), "style": "primary", "via": "warehouse"},
    )
    def pick(self):
        self.reviewed_at = None
        self._enter_step()

    # A failed review sends the goods back to picking, with the reason.
    @transition(
        field=status,
        source=Status.PICKED,
        target=Status.CONFIRMED,
        permission="orders.pick_order",
        conditions=[lambda order: order.reviewed_at is None],
        custom={
            "label": _("Back to picking"),
            "style": "warning",
            "needs_note": True,
            "via": "warehouse",
        },
    )
    def repick(self):
        self._enter_step()

    # The available part has shipped (the customer agreed); the rest waits for stock.
    @transition(
        field=status,
        source=Status.PICKED,
        target=Status.BACKORDERED,
        permission="orders.ship_order",
        conditions=[lambda order: order.partial_agreed_at is not None],
        custom={"label": _("Rest waits for stock"), "style": "warning", "via": "logistics"},
    )
    def await_rest(self):
        self.reviewed_at = None
        self._enter_step()

    @transition(
        field=status,
        source=Status.PICKED,
        target=Status.SHIPPED,
        permission="orders.ship_order",
        conditions=[lambda order: order.reviewed_at is not None],
        # Shipping is recorded on the logistics page (carrier, tracking number, packages).
        custom={"label": _("Mark shipped"), "style": "primary", "via": "logistics"},
    )
    def ship(self):
        self._enter_step()

    @transition(
        field=status,
        source=Status.SHIPPED,
        target=Status.DELIVERED,
        permission="orders.deliver_order",
        # Delivered comes from the carrier's tracking events (or Logistics entering one).
        custom={"label": _("Mark delivered"), "style": "primary", "via": "logistics"},
    )
    def deliver(self):
        self._enter_step()

    @transition(
        field=status,
        source=Status.DELIVERED,
        target=Status.CLOSED,
        permission="orders.close_order",
        custom={"label": _("Close order"), "style": "primary"},
    )
    def close(self):
        self._enter_step()

    @transition(
        field=status,
        source=[Status.PLACED, Status.CONFIRMED, Status.BACKORDERED],
        target=Status.CANCELLED,
        permission="orders.cancel_order",
        custom={"label": _("Cancel order"), "style": "danger", "needs_note": True},
    )
    def cancel(self):
        self._enter_step()


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    # SKU, name and price are copied so the order keeps what was sold.
    sku = models.CharField(_("SKU"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="line_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class EventKind(models.TextChoices):
    TRANSITION = "transition", _("Status change")
    COMMENT = "comment", _("Comment")
    SYSTEM = "system", _("System")


class ImmutableEventError(Exception):
    """Timeline events are written once and never changed or deleted."""


class OrderEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableEventError

    def delete(self):
        raise ImmutableEventError


class OrderEvent(models.Model):
    """One immutable line of an order's timeline: a status change, a comment or a system note."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="events", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True, choices=Status.choices)
    to_status = models.CharField(_("to"), max_length=20, blank=True, choices=Status.choices)
    note = models.TextField(_("note"), blank=True)
    # System events carry a code and data and are worded when shown, in the
    # reader's language (see ``message``).
    code = models.CharField(_("code"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Customer-facing events appear on the public status page (without actor or note).
    public = models.BooleanField(_("shown to the customer"), default=False)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableEventError
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError

    @property
    def changes(self) -> list[dict]:
        """A "changed" event's changes, each labelled in the reader's language."""
        shown = []
        for change in self.data.get("changes", []):
            if change["field"] == "line":
                label = change.get("label", "")
            else:
                label = Order._meta.get_field(change["field"]).verbose_name
            shown.append({**change, "label": label})
        return shown

    @property
    def message(self) -> str:
        """What happened, in the current language (without the free-text note)."""
        if self.kind == EventKind.COMMENT:
            return gettext("Comment")
        if self.code == "step_overdue":
            step = ProcessStep.objects.filter(code=self.data.get("step")).first()
            return gettext("Step late: %(step)s passed its target time.") % {
                "step": step.name if step else self.data.get("step", "")
            }
        if self.kind == EventKind.TRANSITION and self.to_status == Status.PLACED:
            channel = self.data.get("channel")
            if channel in Channel.values:
                return gettext("Order placed (%(channel)s)") % {"channel": Channel(channel).label}
            return gettext("Order placed")
        if self.kind == EventKind.TRANSITION:
            return Status(self.to_status).label
        if self.code == "verified":
            return gettext("Contact and address checked")
        if self.code == "customer_linked":
            return gettext(
                "Filed under the existing customer %(name)s (no. %(customer)s) after checking"
            ) % {"name": self.data.get("name", ""), "customer": self.data.get("customer", "")}
        if self.code == "customer_kept_separate":
            return gettext("Checked: not the same person as the possible matches, kept separate")
        if self.code == "callback_requested":
            return gettext("The customer asked to be called back")
        if self.code == "changed":
            if self.data.get("request"):
                return gettext("Delivery details changed at the customer's request")
            return gettext("Order changed before confirmation")
        if self.code == "change_requested":
            return gettext("Delivery change requested: %(what)s") % {
                "what": change_what(self.data.get("what", []))
            }
        if self.code == "change_approved":
            return gettext("Delivery change approved: %(what)s") % {
                "what": change_what(self.data.get("what", []))
            }
        if self.code == "change_refused":
            return gettext("Delivery change refused: %(reason)s") % {
                "reason": self.data.get("reason", "")
            }
        if self.code in SYSTEM_MESSAGES:
            return str(SYSTEM_MESSAGES[self.code])
        if self.code in EVENT_MESSAGES:
            text = str(EVENT_MESSAGES[self.code])
            try:
                return text % self.data if "%(" in text else text
            except (KeyError, TypeError, ValueError):
                return text
        if self.code == "shipment":
            return gettext("Handed to %(carrier)s, tracking number %(tracking)s") % {
                "carrier": self.data.get("carrier", ""),
                "tracking": self.data.get("tracking", ""),
            }
        if self.code == "tracking":
            return tracking_message(self.data)
        if self.code == "exception_opened":
            return gettext("Delivery problem: %(problem)s") % {
                "problem": tracking_message(self.data)
            }
        if self.code == "promise_changed":
            return gettext("New delivery date: %(date)s") % {"date": self.data.get("date", "")}
        if self.code == "follow_up_created":
            return gettext("Follow-up task created")
        if self.code == "follow_up_escalated":
            return gettext("Follow-up overdue: escalated to the managers")
        # Never the free-text note: it may be internal.
        return EventKind(self.kind).label


# What the carrier's tracking events say, in the reader's language.
TRACKING_WORDS = {
    "in_transit": _("In transit"),
    "out_for_delivery": _("Out for delivery"),
    "delivered": _("Parcel delivered"),
    "delayed": _("Delayed"),
    "failed_attempt": _("Delivery attempt failed"),
    "lost": _("Lost"),
    "damaged": _("Damaged"),
    "address_problem": _("Address problem"),
    "returned": _("Returned to sender"),
}


def tracking_message(data) -> str:
    word = str(TRACKING_WORDS.get(data.get("type"), data.get("type", "")))
    return f"{word} · {data['location']}" if data.get("location") else word


# How system events with a fixed wording read; worded at read time.
SYSTEM_MESSAGES = {
    "reserved": _("Stock reserved"),
    "shortage": _("Short of stock"),
    "acknowledged": _("The warehouse took over the order"),
    "discrepancy": _("Picking problem recorded"),
    "packed": _("Packed"),
    "review_passed": _("Review passed: ready for logistics"),
    "review_failed": _("Review failed: back to picking"),
    "sales_alerted": _("Sales told of the shortage"),
    "exception_resolved": _("Delivery problem solved"),
    "partial_agreed": _("You agreed to receive the available goods first"),
}


# Wording for the system events of other apps (feedback, logistics...): they add
# lazily translated strings here at import time; "%(name)s" is filled from the
# event's data when the reader sees it.
EVENT_MESSAGES: dict[str, str] = {}


class StepCode(models.TextChoices):
    PLACEMENT = "placement", _("Customer places order")
    CONFIRMATION = "confirmation", _("Order confirmation")
    PROCESSING = "processing", _("Order processing")
    SHIPPING = "shipping", _("Review and shipping")
    TRACKING = "tracking", _("Delivery tracking")
    RECEIPT = "receipt", _("Customer confirms receipt")
    CLOSING = "closing", _("Order closing")
    FEEDBACK = "feedback", _("Feedback")


# Which process step's clock runs while an order waits in each state. This is
# structure, not configuration: it follows the state machine above.
STEP_FOR_STATUS = {
    Status.PLACED: StepCode.CONFIRMATION,
    Status.CONFIRMED: StepCode.PROCESSING,
    Status.BACKORDERED: StepCode.PROCESSING,
    Status.PICKED: StepCode.SHIPPING,
    Status.SHIPPED: StepCode.TRACKING,
    Status.DELIVERED: StepCode.CLOSING,
}


MIN_TARGET = timedelta(minutes=1)
MAX_TARGET = timedelta(days=365)


class ProcessStep(models.Model):
    """One documented step of the process: owner, how it is done, its target time, notes.

    Seeded from PROCESS.md by a data migration and edited in the admin; name, how and
    notes are kept in every interface language (django-modeltranslation).
    """

    position = models.PositiveSmallIntegerField(_("step"), unique=True)
    code = models.CharField(_("code"), max_length=20, unique=True, choices=StepCode.choices)
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    how = models.TextField(_("how it is done"), blank=True)
    target = models.DurationField(
        _("target time"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "How long the step may take, e.g. 24:00:00 for 24 hours (1 minute to 365 days). "
            "Empty: no clock."
        ),
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("due soon at (percent of target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    notes = models.TextField(_("notes"), blank=True)
    follow_up_within = models.DurationField(
        _("follow-up due within"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "When the step is late, the responsible person gets a follow-up task due within "
            "this time; an overdue follow-up is escalated to the managers. Empty: no follow-up."
        ),
    )
    give_up_after = models.DurationField(
        _("final limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)],
        help_text=_(
            "Counted from the start of the step: after it, the order is listed as having no "
            "answer and may be cancelled with a reason."
        ),
    )

    class Meta:
        verbose_name = _("process step")
        verbose_name_plural = _("process steps")
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warning_percent__gte=1, warning_percent__lte=99),
                name="processstep_warning_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(target__isnull=True)
                | models.Q(target__gte=MIN_TARGET, target__lte=MAX_TARGET),
                name="processstep_target_range",
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"

    @property
    def statuses(self) -> list[str]:
        return [status for status, code in STEP_FOR_STATUS.items() if code == self.code]

    def target_for(self, channel: str):
        """The target time for an order of ``channel`` (an admin override, if any)."""
        for override in self.channel_targets.all():
            if override.channel == channel:
                return override.target
        return self.target


class StepChannelTarget(models.Model):
    """A step's target time for one order channel (e.g. phone orders confirm faster)."""

    step = models.ForeignKey(
        ProcessStep,
        on_delete=models.CASCADE,
        related_name="channel_targets",
        verbose_name=_("process step"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    target = models.DurationField(
        _("target time"), validators=[MinValueValidator(MIN_TARGET), MaxValueValidator(MAX_TARGET)]
    )

    class Meta:
        verbose_name = _("target time for a channel")
        verbose_name_plural = _("target times for a channel")
        constraints = [
            models.UniqueConstraint(fields=["step", "channel"], name="one_target_per_channel"),
            models.CheckConstraint(
                condition=models.Q(target__gte=MIN_TARGET, target__lte=MAX_TARGET),
                name="channel_target_range",
            ),
        ]

    def __str__(self):
        return f"{self.step} · {self.get_channel_display()}"


class FollowUpReason(models.TextChoices):
    LATE = "late", _("Step late")
    SHORTAGE = "shortage", _("Short of stock: agree a new date")


class FollowUp(models.Model):
    """A task for a person: the order's step is late and someone must chase it.

    Created by the deadline sweep exactly once per step of an order (the unique
    constraint on the step's start is the database's guarantee), closed when the step
    is done, escalated to the managers when it is itself overdue.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("order")
    )
    step = models.CharField(_("step"), max_length=20, choices=StepCode.choices)
    step_started_at = models.DateTimeField()
    reason = models.CharField(
        _("reason"), max_length=10, choices=FollowUpReason.choices, default=FollowUpReason.LATE
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), db_index=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "step", "step_started_at"], name="one_follow_up_per_step"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_step_display()}"


class VerificationMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    LINK = "link", _("Customer's confirmation link")


class DeliveryPromise(models.Model):
    """Every delivery date promised to the customer, in order; the last one holds."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="promises", verbose_name=_("order")
    )
    date = models.DateField(_("promised delivery date"))
    method = models.CharField(_("agreed by"), max_length=10, choices=VerificationMethod.choices)
    agreed = models.TextField(_("what was agreed"), blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery promise")
        verbose_name_plural = _("delivery promises")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.date}"


def evidence_path(instance, filename):
    # Never the uploader's file name in the path: it is stored by order and a random name.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"evidence/{instance.order.number}/{secrets.token_hex(8)}.{suffix}"


class OrderDocument(models.Model):
    """Evidence kept with an order, e.g. the customer's original email for an email order."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="documents", verbose_name=_("order")
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("pasted text"), blank=True)
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("order document")
        verbose_name_plural = _("order documents")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.title}"


class NotificationKind(models.TextChoices):
    ORDER_RECEIVED = "order_received", _("Order received")
    ORDER_CONFIRMED = "order_confirmed", _("Order confirmed")
    CONFIRMATION_REMINDER = "confirmation_reminder", _("Confirmation reminder")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    NEW_DELIVERY_DATE = "new_delivery_date", _("New delivery date")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    DELIVERY_PROBLEM = "delivery_problem", _("Delivery problem")
    PROBLEM_RECEIVED = "problem_received", _("Problem report received")
    PROBLEM_RESOLVED = "problem_resolved", _("Problem report resolved")
    RECEIPT_REMINDER = "receipt_reminder", _("Please confirm receipt")
    DELIVERY_CHANGE_APPROVED = "delivery_change_approved", _("Delivery change approved")
    DELIVERY_CHANGE_REFUSED = "delivery_change_refused", _("Delivery change refused")
    # To staff, not to the customer:
    SHORTAGE_ALERT = "shortage_alert", _("Shortage alert to Sales")


class Notification(models.Model):
    """An email about an order (to the customer, or a staff alert), written in the same
    transaction as the change it reports, so it is never lost: a worker sends it after
    commit and retries, and the deadline sweep re-queues any that are still unsent."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    # Tells apart emails of one kind that may be sent more than once (e.g. the pk of
    # the delivery promise they announce); empty for once-only kinds.
    key = models.CharField(_("key"), max_length=60, blank=True, default="")
    to = models.EmailField(_("to"))
    # Empty: the language of the order's contact (as typed with the order).
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    # What the email needs beyond the order (e.g. the tracking link), from the app that sent it.
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A worker's claim on the next send: until then no one else starts one, so a send
    # in flight (or a retry waiting after an SMTP error) is never doubled; the claim of
    # a worker that died runs out and is taken over (orders.emails.deliver).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "key"], name="one_notification_per_kind_and_key"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_kind_display()}"


# ---------------------------------------------------------------------------
# The customer's delivery change requests (from the public status page)

# Until packing starts, the customer may ask to change how the order is delivered.
CUSTOMER_CHANGEABLE_STATUSES = (Status.PLACED, Status.CONFIRMED, Status.BACKORDERED)


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


# What a request asks for, in the reader's language (timeline and emails).
CHANGE_WHAT = {
    "window": _("delivery window"),
    "instructions": _("delivery instructions"),
    "address": _("delivery address"),
}


def change_what(what) -> str:
    return ", ".join(str(CHANGE_WHAT[w]) for w in what if w in CHANGE_WHAT)


class DeliveryChangeRequest(models.Model):
    """A customer's request, sent from the status page, to change how their order is
    delivered: another time window, added instructions, or another address. Nothing
    changes on the order until Sales approves it (services.approve_delivery_change);
    a refusal carries a reason written for the customer. Requests are never deleted.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="change_requests", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    # Empty: keep the order's window.
    requested_window = models.CharField(
        _("new delivery window"), max_length=10, choices=DeliveryWindow.choices, blank=True
    )
    # Added to the order's special instructions.
    instructions = models.TextField(_("instructions to add"), blank=True)
    # A new address: street empty means the address stays as it is.
    recipient = models.CharField(_("recipient"), max_length=120, blank=True)
    phone = models.CharField(_("recipient phone"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason given to the customer"), blank=True)

    class Meta:
        verbose_name = _("delivery change request")
        verbose_name_plural = _("delivery change requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open request per order: the customer waits for the answer first.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="pending"),
                name="one_pending_change_request_per_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_window="", instructions="", street=""),
                name="change_request_asks_for_something",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(decided_at__isnull=False)),
                name="change_request_decided_when_not_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused", reason=""),
                name="refused_change_request_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(street="") | (~models.Q(province="") & ~models.Q(city="")),
                name="change_request_address_complete",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_status_display()}"

    @property
    def changes_address(self) -> bool:
        return bool(self.street)

    @property
    def what(self) -> list[str]:
        """What is asked for: "window", "instructions", "address"."""
        asked = []
        if self.requested_window:
            asked.append("window")
        if self.instructions:
            asked.append("instructions")
        if self.changes_address:
            asked.append("address")
        return asked

    @property
    def what_display(self) -> str:
        return change_what(self.what)

    @property
    def new_address(self) -> str:
        return format_address(self.province, self.city, self.district, self.street)
