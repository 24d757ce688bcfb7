"""What the warehouse pages read: the order's stage, the pick list, low stock."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q

from orders.models import Order, Status

from .models import Fulfilment, Package, StockItem
from .services import main_warehouse, pick_targets, picked_quantities, unshipped_quantities

TO_ACKNOWLEDGE = Q(status=Status.CONFIRMED, fulfilment__isnull=True)
TO_PICK = Q(status=Status.CONFIRMED, fulfilment__isnull=False)
TO_PACK = Q(status=Status.PICKED, fulfilment__packed_at__isnull=True)
TO_REVIEW = Q(status=Status.PICKED, fulfilment__packed_at__isnull=False, reviewed_at__isnull=True)


def stage(order) -> str:
    """Where the order is in the warehouse: acknowledge, pick, pack, review, done or
    "" (not the warehouse's turn)."""
    fulfilment = Fulfilment.objects.filter(order=order).first()
    if order.status == Status.CONFIRMED:
        return "pick" if fulfilment else "acknowledge"
    if order.status == Status.BACKORDERED:
        return "backordered"
    if order.status == Status.PICKED:
        if fulfilment is None or fulfilment.packed_at is None:
            return "pack"
        return "review" if order.reviewed_at is None else "done"
    return ""


@dataclass
class PickRow:
    line: object
    bin: str
    picked: int
    stock: object = None
    wanted: int = 0  # to pick now: not shipped yet and, once reserved, held for it

    @property
    def left(self) -> int:
        return self.wanted - self.picked


def pick_rows(order, round_=None) -> list[PickRow]:
    """The order's lines with their bin location and what is picked, in walking
    order (by bin; lines without a bin last)."""
    fulfilment = Fulfilment.objects.filter(order=order).first()
    round_ = round_ or (fulfilment.round if fulfilment else 1)
    picked = picked_quantities(order, round_)
    lines = list(order.lines.all())
    reserved = order.reservations.filter(released_at__isnull=True).exists()
    wanted = pick_targets(order) if reserved else unshipped_quantities(order)
    stock = {
        item.product_id: item
        for item in StockItem.objects.filter(
            warehouse=main_warehouse(), product_id__in=[line.product_id for line in lines]
        ).select_related("bin")
    }
    rows = []
    for line in lines:
        item = stock.get(line.product_id)
        bin_code = item.bin.code if item and item.bin else ""
        rows.append(PickRow(line, bin_code, picked[line.pk], item, wanted[line.pk]))
    return sorted(rows, key=lambda row: (row.bin == "", row.bin, row.line.sku, row.line.pk))


@dataclass
class BatchRow:
    bin: str
    sku: str
    name: str
    total: int = 0
    orders: list = field(default_factory=list)  # (order number, quantity)


def batch_pick_list(orders) -> list[BatchRow]:
    """One walk through the warehouse for many orders: each SKU once, in bin order,
    with the total to take and how it splits over the orders."""
    rows: dict[str, BatchRow] = {}
    for order in orders:
        for row in pick_rows(order):
            if row.left <= 0:
                continue
            batch = rows.setdefault(row.line.sku, BatchRow(row.bin, row.line.sku, row.line.name))
            batch.total += row.left
            batch.orders.append((order, row.left))
    return sorted(rows.values(), key=lambda b: (b.bin == "", b.bin, b.sku))


def orders_to_pick(numbers=None):
    qs = Order.objects.filter(TO_PICK).order_by("fulfilment__acknowledged_at", "pk")
    if numbers:
        qs = qs.filter(number__in=numbers)
    return list(qs.prefetch_related("lines"))


def packages(order):
    fulfilment = Fulfilment.objects.filter(order=order).first()
    if fulfilment is None:
        return []
    return list(Package.objects.filter(order=order, round=fulfilment.round))


def low_stock(limit=50):
    """Stock rows whose free quantity is at or below their alert threshold."""
    return list(
        StockItem.objects.filter(low_stock_threshold__gt=0)
        .annotate(free=F("on_hand") - F("reserved"))
        .filter(free__lte=F("low_stock_threshold"))
        .select_related("product", "warehouse", "bin")
        .order_by("free", "product__sku")[:limit]
    )


def waiting_demand() -> dict[int, int]:
    """Units wanted by backordered orders, per product."""
    wanted = defaultdict(int)
    for order in Order.objects.filter(status=Status.BACKORDERED).prefetch_related("lines"):
        for line in order.lines.all():
            wanted[line.product_id] += line.quantity
    return wanted
