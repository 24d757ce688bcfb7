"""Products, orders and their lines, with the order's state machine."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .customers import LANGUAGE_CHOICES, Channel, Customer, DeliveryWindow, format_address


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


# Migrations name this function by its public path: keep it "orders.models".
new_public_token.__module__ = "orders.models"


def _closing_allowed(order) -> bool:
    from ..closing import may_close

    return may_close(order)


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
    # An exchange's replacement: the order whose goods it replaces (its lines cost
    # nothing: the customer paid with that order).
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        verbose_name=_("replaces order"),
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
        # Beyond these, orders 0019 adds PostgreSQL-only indexes for the staff search
        # (trigram indexes on the number, names and phones; prefix indexes on names).
        indexes = [
            models.Index(fields=["status", "step_started_at"]),
            # The list filtered by state, newest first; the overview's recent counts.
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            # A phone number typed in the search box finds its orders at once.
            models.Index(fields=["contact_phone"], name="order_contact_phone"),
            models.Index(fields=["delivery_phone"], name="order_delivery_phone"),
            # The deadline sweep reads only open orders not yet marked late.
            models.Index(
                fields=["status", "step_started_at"],
                condition=models.Q(step_overdue_at__isnull=True, status__in=OPEN_STATUSES),
                name="order_open_not_overdue",
            ),
        ]

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
        # Every item of the closing checklist passes (orders.closing); Finance closes
        # from the closing request's page, not with a button on the order page.
        conditions=[_closing_allowed],
        custom={"label": _("Close order"), "style": "primary", "via": "finance"},
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
    # Units handed to a carrier so far; logistics reports them through
    # orders.services.record_shipped_quantities when it ships.
    shipped_quantity = models.PositiveIntegerField(_("shipped quantity"), default=0)

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
            models.CheckConstraint(
                condition=models.Q(shipped_quantity__lte=models.F("quantity")),
                name="line_shipped_at_most_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
