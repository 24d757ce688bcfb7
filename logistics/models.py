"""Carriers and how they are chosen, shipments, tracking events and exceptions."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderLine
from warehouse.models import Package


class CheckDigit(models.TextChoices):
    NONE = "none", _("None")
    LUHN = "luhn", _("Luhn (mod 10)")
    S10 = "s10", _("UPU S10 (mod 11)")


def new_webhook_secret():
    return secrets.token_urlsafe(32)


class Carrier(models.Model):
    """A delivery company, with its tracking-number format and tracking link."""

    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9-]+$", _("Lower-case letters, digits and -."))],
    )
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    tracking_url = models.CharField(
        _("tracking link pattern"),
        max_length=300,
        help_text=_("The carrier's tracking page, with {tracking} where the number goes."),
        validators=[
            RegexValidator(r"^https://[^\s]*\{tracking\}", _("An https link with {tracking}."))
        ],
    )
    tracking_prefix = models.CharField(
        _("tracking number prefix"),
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]*$", _("Capital letters only."))],
    )
    tracking_digits = models.PositiveSmallIntegerField(
        _("digits in a tracking number"),
        default=10,
        validators=[MinValueValidator(6), MaxValueValidator(20)],
        help_text=_("Not counting the check digit."),
    )
    tracking_suffix = models.CharField(
        _("tracking number suffix"),
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]*$", _("Capital letters only."))],
    )
    check_digit = models.CharField(
        _("check digit"), max_length=6, choices=CheckDigit.choices, default=CheckDigit.LUHN
    )
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=100,
        default=new_webhook_secret,
        help_text=_("Shared with the carrier to sign the tracking events it sends."),
    )

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def tracking_link(self, number: str) -> str:
        return self.tracking_url.replace("{tracking}", number)


class ServiceLevel(models.TextChoices):
    ECONOMY = "economy", _("Economy")
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")
    SAME_DAY = "same_day", _("Same day")


class CarrierService(models.Model):
    """One of a carrier's services: how fast, how heavy, what it costs, whether it
    delivers within a customer's time window."""

    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="services", verbose_name=_("carrier")
    )
    level = models.CharField(_("service level"), max_length=10, choices=ServiceLevel.choices)
    transit_days = models.PositiveSmallIntegerField(
        _("days in transit"), validators=[MinValueValidator(0), MaxValueValidator(60)]
    )
    max_weight_kg = models.DecimalField(
        _("heaviest package (kg)"),
        max_digits=7,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    base_price = models.DecimalField(
        _("price per shipment"), max_digits=9, decimal_places=2, validators=[MinValueValidator(0)]
    )
    price_per_kg = models.DecimalField(
        _("price per kg"), max_digits=9, decimal_places=2, validators=[MinValueValidator(0)]
    )
    honours_time_window = models.BooleanField(
        _("delivers within a time window"),
        default=False,
        help_text=_("Only these services are proposed when the customer asked for a window."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        ordering = ["carrier__name", "transit_days"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "level"], name="one_service_per_level"),
            models.CheckConstraint(
                condition=Q(max_weight_kg__gt=0, base_price__gte=0, price_per_kg__gte=0),
                name="carrier_service_amounts_valid",
            ),
        ]

    def __str__(self):
        return f"{self.carrier.name} · {self.get_level_display()}"


class CarrierRule(models.Model):
    """Where a service delivers: a province, a city in it, or everywhere (both empty).
    A rule may also cap the weight of a shipment for that destination."""

    service = models.ForeignKey(
        CarrierService, on_delete=models.CASCADE, related_name="rules", verbose_name=_("service")
    )
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    max_weight_kg = models.DecimalField(
        _("heaviest shipment here (kg)"),
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier rule")
        verbose_name_plural = _("carrier rules")
        ordering = ["service", "province", "city"]
        constraints = [
            models.CheckConstraint(
                condition=Q(city="") | ~Q(province=""), name="rule_city_needs_province"
            )
        ]

    def __str__(self):
        where = " ".join(part for part in (self.province, self.city) if part)
        return f"{self.service} · {where or _('everywhere')}"


class ShipmentStatus(models.TextChoices):
    SHIPPED = "shipped", _("Handed to the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    PROBLEM = "problem", _("Problem")
    RETURNED = "returned", _("Returned to sender")
    LOST = "lost", _("Lost")


class Shipment(models.Model):
    """Packages of one order handed to one carrier under one tracking number."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    service = models.ForeignKey(
        CarrierService, on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("carrier")
    )
    proposed_service = models.ForeignKey(
        CarrierService,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed service"),
    )
    override_reason = models.CharField(_("why another carrier"), max_length=300, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    packages = models.ManyToManyField(Package, related_name="shipments", verbose_name=_("packages"))
    status = models.CharField(
        _("status"), max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.SHIPPED
    )
    shipped_at = models.DateTimeField(_("shipped"), default=timezone.now)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    estimated_delivery = models.DateField(_("estimated delivery"))
    # The carrier's price for this shipment (yuan), from its service when it shipped;
    # Finance charges the customer's freight from it (finance.FreightTerms).
    freight_cost = models.DecimalField(
        _("freight cost (CNY)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-shipped_at"]
        # The shipments still on their way: a few thousand among millions delivered
        # (late shipments on the dashboard, and an order's "all delivered?" check).
        indexes = [
            models.Index(
                fields=["order"],
                condition=~models.Q(status="delivered"),
                name="shipment_not_delivered",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="one_tracking_number_per_carrier"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.carrier.name} {self.tracking_number}"

    @property
    def tracking_link(self) -> str:
        return self.carrier.tracking_link(self.tracking_number)


class ShipmentLine(models.Model):
    """How many units of an order line travel in a shipment (an order may ship in parts)."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="lines", verbose_name=_("shipment")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="shipped", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipped line")
        verbose_name_plural = _("shipped lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipped_quantity_positive"),
            models.UniqueConstraint(fields=["shipment", "line"], name="one_row_per_line"),
        ]

    def __str__(self):
        return f"{self.shipment} · {self.line.sku} × {self.quantity}"


class EventType(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    DELAYED = "delayed", _("Delayed")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    LOST = "lost", _("Lost")
    DAMAGED = "damaged", _("Damaged")
    ADDRESS_PROBLEM = "address_problem", _("Address problem")
    RETURNED = "returned", _("Returned to sender")


# Events that open an exception, and the shipment status each one leads to.
EXCEPTION_EVENTS = {
    EventType.DELAYED,
    EventType.FAILED_ATTEMPT,
    EventType.LOST,
    EventType.DAMAGED,
    EventType.ADDRESS_PROBLEM,
}
STATUS_AFTER = {
    EventType.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    EventType.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    EventType.DELIVERED: ShipmentStatus.DELIVERED,
    EventType.DELAYED: ShipmentStatus.IN_TRANSIT,
    EventType.FAILED_ATTEMPT: ShipmentStatus.PROBLEM,
    EventType.LOST: ShipmentStatus.LOST,
    EventType.DAMAGED: ShipmentStatus.PROBLEM,
    EventType.ADDRESS_PROBLEM: ShipmentStatus.PROBLEM,
    EventType.RETURNED: ShipmentStatus.RETURNED,
}


class TrackingEvent(models.Model):
    """What happened to a shipment, from the carrier (webhook) or entered by Logistics.
    The carrier's own event id makes a replayed event a no-op."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="events", verbose_name=_("shipment")
    )
    type = models.CharField(_("event"), max_length=20, choices=EventType.choices)
    happened_at = models.DateTimeField(_("when"))
    location = models.CharField(_("where"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    carrier_event_id = models.CharField(_("carrier's event id"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["happened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "carrier_event_id"],
                condition=~Q(carrier_event_id=""),
                name="one_event_per_carrier_id",
            )
        ]

    def __str__(self):
        return f"{self.shipment} · {self.get_type_display()}"


class Resolution(models.TextChoices):
    REDELIVER = "redeliver", _("Deliver again")
    RESHIP = "reship", _("Send again")
    REFUND = "refund", _("Refund")
    RETURN = "return", _("Return to us")
    NONE = "none", _("Nothing needed (resolved by itself)")


class DeliveryException(models.Model):
    """A delivery problem someone owns until it is resolved."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="exceptions", verbose_name=_("shipment")
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="exceptions", verbose_name=_("order")
    )
    event = models.OneToOneField(
        TrackingEvent, on_delete=models.PROTECT, related_name="exception", verbose_name=_("event")
    )
    type = models.CharField(_("problem"), max_length=20, choices=EventType.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delivery_exceptions",
        verbose_name=_("owner"),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    resolution = models.CharField(
        _("resolution"), max_length=10, choices=Resolution.choices, blank=True
    )
    resolution_note = models.TextField(_("what was done"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("delivery exception")
        verbose_name_plural = _("delivery exceptions")
        ordering = ["opened_at"]
        indexes = [
            models.Index(
                fields=["opened_at"],
                condition=Q(resolved_at__isnull=True),
                name="delivery_exception_open",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""),
                name="resolved_exception_has_resolution",
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.get_type_display()}"
