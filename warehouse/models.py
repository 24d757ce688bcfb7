"""Stock: warehouses, bins, stock per product and warehouse, movements, reservations."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, Product


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


class StockMovement(models.Model):
    """Every change of a stock row, with who, why and (for reservations) which order."""

    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="movements", verbose_name=_("stock item")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=MovementKind.choices)
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
