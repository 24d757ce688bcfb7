"""Stock: warehouses, bins, stock per product and warehouse, movements, reservations."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderLine, Product


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Bin(models.Model):
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="bins", verbose_name=_("warehouse")
    )
    code = models.CharField(_("bin location"), max_length=30)

    class Meta:
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        ordering = ["warehouse", "code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="one_bin_code_per_warehouse")
        ]

    def __str__(self):
        return f"{self.warehouse.code}/{self.code}"


class StockItem(models.Model):
    """How many units of a product a warehouse holds and how many are promised to orders.

    The database itself refuses a negative quantity or more reserved than on hand.
    """

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stock", verbose_name=_("warehouse")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock", verbose_name=_("product")
    )
    bin = models.ForeignKey(
        Bin, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("bin location")
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    low_stock_threshold = models.PositiveIntegerField(_("low-stock alert at"), default=0)

    class Meta:
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        ordering = ["warehouse", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "product"], name="one_stock_row_per_product"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.warehouse.code} · {self.product.sku}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Goods received")
    ADJUSTMENT = "adjustment", _("Adjustment")
    RESERVATION = "reservation", _("Reserved for an order")
    RELEASE = "release", _("Reservation released")
    WRITE_OFF = "write_off", _("Written off while picking")
    SHIPMENT = "shipment", _("Shipped")
    RETURN_RESTOCK = "return_restock", _("Returned by a customer, back to stock")
    RETURN_WRITE_OFF = "return_write_off", _("Returned by a customer, written off")
    RETURN_REPAIR = "return_repair", _("Returned by a customer, sent to repair")


class StockMovement(models.Model):
    """Every change of a stock row, with who, why and (for reservations) which order."""

    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="movements", verbose_name=_("stock item")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    on_hand_change = models.IntegerField(_("on hand change"), default=0)
    reserved_change = models.IntegerField(_("reserved change"), default=0)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("order")
    )
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
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.stock_item} · {self.get_kind_display()}"


class Reservation(models.Model):
    """Units of one stock row held for one order."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("order")
    )
    stock_item = models.ForeignKey(
        StockItem,
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("stock item"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="reservation_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["order", "stock_item"],
                condition=Q(released_at__isnull=True),
                name="one_open_reservation_per_order_and_stock",
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.stock_item} × {self.quantity}"


def _who(related_name="+"):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("who"),
    )


class Fulfilment(models.Model):
    """The warehouse's work on one order: the acknowledged hand-off (which starts the
    warehouse's own clock), the picking round, and packing.

    ``round`` counts picking attempts: a failed review or a shortage during picking
    starts a new round, and picks, packages and reviews belong to their round.
    """

    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="fulfilment",
        verbose_name=_("order"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), default=timezone.now)
    acknowledged_by = _who()
    round = models.PositiveSmallIntegerField(_("picking round"), default=1)
    packed_at = models.DateTimeField(_("packed"), null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("packed by"),
    )

    class Meta:
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        ordering = ["acknowledged_at"]
        indexes = [
            # The open set: fulfilments not packed yet, i.e. orders waiting to be
            # picked or packed (packed ones are nearly every row, for good). The batch
            # pick list walks it in hand-off order instead of reading every fulfilment.
            models.Index(
                fields=["acknowledged_at", "order"],
                condition=Q(packed_at__isnull=True),
                name="fulfilment_unpacked",
            ),
        ]

    def __str__(self):
        return self.order.number

    def pickers(self):
        """Who picked in the current round: none of them may review it (one query)."""
        picks = Pick.objects.filter(order_id=self.order_id, round=self.round)
        found = Discrepancy.objects.filter(order_id=self.order_id, round=self.round)
        by = (
            picks.order_by()
            .values_list("by_id", flat=True)
            .union(found.order_by().values_list("by_id", flat=True))
        )
        return set(by)


class Pick(models.Model):
    """Units of an order line taken from the shelf, confirmed by scanning or typing the SKU."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="picks", verbose_name=_("order")
    )
    line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="picks", verbose_name=_("order line")
    )
    round = models.PositiveSmallIntegerField(_("picking round"))
    quantity = models.PositiveIntegerField(_("quantity"))
    scanned = models.CharField(_("SKU scanned or typed"), max_length=60)
    by = _who()
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("pick")
        verbose_name_plural = _("picks")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="pick_quantity_positive")
        ]

    def __str__(self):
        return f"{self.order.number} · {self.line.sku} × {self.quantity}"


class DiscrepancyKind(models.TextChoices):
    NOT_FOUND = "not_found", _("Not found on the shelf")
    DAMAGED = "damaged", _("Damaged")


class DiscrepancyOutcome(models.TextChoices):
    REPLACED = "replaced", _("Replaced from other stock")
    BACKORDERED = "backordered", _("Short: order backordered")


class Discrepancy(models.Model):
    """A problem found while picking: the units are written off and replaced from
    other stock, or the order goes into the shortage loop."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="discrepancies", verbose_name=_("order")
    )
    line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        related_name="discrepancies",
        verbose_name=_("order line"),
    )
    round = models.PositiveSmallIntegerField(_("picking round"))
    kind = models.CharField(_("problem"), max_length=12, choices=DiscrepancyKind.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=DiscrepancyOutcome.choices)
    by = _who()
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("picking discrepancy")
        verbose_name_plural = _("picking discrepancies")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="discrepancy_quantity_positive"
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.line.sku} · {self.get_kind_display()}"


class Package(models.Model):
    """One parcel of an order, with what the carrier needs: weight and dimensions."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="packages", verbose_name=_("order")
    )
    round = models.PositiveSmallIntegerField(_("picking round"))
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=7,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1000"))],
    )
    length_cm = models.PositiveSmallIntegerField(
        _("length (cm)"), validators=[MinValueValidator(1), MaxValueValidator(400)]
    )
    width_cm = models.PositiveSmallIntegerField(
        _("width (cm)"), validators=[MinValueValidator(1), MaxValueValidator(400)]
    )
    height_cm = models.PositiveSmallIntegerField(
        _("height (cm)"), validators=[MinValueValidator(1), MaxValueValidator(400)]
    )
    by = _who()
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    # Written by logistics through warehouse.services.mark_packages_shipped, for the label.
    carrier_name = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__gt=0, length_cm__gt=0, width_cm__gt=0, height_cm__gt=0),
                name="package_measures_positive",
            )
        ]

    def __str__(self):
        return f"{self.order.number} · {self.weight_kg} kg"


class Review(models.Model):
    """The second person's check of the packed goods against the order."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("order")
    )
    round = models.PositiveSmallIntegerField(_("picking round"))
    passed = models.BooleanField(_("passed"))
    notes = models.TextField(_("notes"), blank=True)
    by = _who()
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "round"], name="one_review_per_round"),
            models.CheckConstraint(
                condition=Q(passed=True) | ~Q(notes=""), name="failed_review_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.order.number} · {self.round}"
