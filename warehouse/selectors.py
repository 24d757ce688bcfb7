"""What the warehouse pages read: the order's stage, the pick lists, low stock.

Every list reads its rows in bulk: a page runs the same number of queries for one
order as for thousands (tests/performance/test_query_budgets.py holds them to it)."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q, Sum, prefetch_related_objects

from orders.models import Order, OrderLine, Status

from .models import Fulfilment, Package, Pick, Reservation, StockItem
from .services import MAIN_WAREHOUSE, share_reserved

TO_ACKNOWLEDGE = Q(status=Status.CONFIRMED, fulfilment__isnull=True)
# A confirmed order's fulfilment is never packed (every way back to confirmed starts
# a new round, unpacked): saying so lets the database read the unpacked fulfilments'
# partial index instead of every fulfilment there is.
TO_PICK = Q(status=Status.CONFIRMED, fulfilment__isnull=False, fulfilment__packed_at__isnull=True)
TO_PACK = Q(status=Status.PICKED, fulfilment__packed_at__isnull=True)
TO_REVIEW = Q(status=Status.PICKED, fulfilment__packed_at__isnull=False, reviewed_at__isnull=True)


def fulfilment_of(order) -> Fulfilment | None:
    return (
        Fulfilment.objects.filter(order=order)
        .select_related("acknowledged_by", "packed_by")
        .first()
    )


def stage(order, fulfilment=None) -> str:
    """Where the order is in the warehouse: acknowledge, pick, pack, review, done or
    "" (not the warehouse's turn). ``fulfilment``: the order's, when already read."""
    if fulfilment is None:
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


@dataclass
class Picking:
    """An order's pick list: its rows in walking order, and whether stock is held
    for it (before that, every unit not shipped yet is wanted)."""

    rows: list[PickRow]
    reserved: bool


def picking_for(orders) -> dict[int, Picking]:
    """The pick lists of ``orders`` by order id, in a constant number of queries
    however many orders there are: their lines (unless prefetched), the picks of each
    order's current round, the open reservations, the stock rows with their bins."""
    orders = list(orders)
    if not orders:
        return {}
    prefetch_related_objects(orders, "lines")
    ids = [order.pk for order in orders]
    picked = defaultdict(int)
    current_round = Pick.objects.filter(order_id__in=ids, round=F("order__fulfilment__round"))
    for line_id, quantity in current_round.values_list("line_id", "quantity").order_by():
        picked[line_id] += quantity
    held = defaultdict(lambda: defaultdict(int))
    reservations = Reservation.objects.filter(order_id__in=ids, released_at__isnull=True)
    for order_id, product_id, quantity in reservations.values_list(
        "order_id", "stock_item__product_id", "quantity"
    ).order_by():
        held[order_id][product_id] += quantity
    products = {line.product_id for order in orders for line in order.lines.all()}
    stock = {
        item.product_id: item
        for item in StockItem.objects.filter(
            warehouse__code=MAIN_WAREHOUSE, product_id__in=products
        ).select_related("bin")
    }
    result = {}
    for order in orders:
        lines = list(order.lines.all())
        left = {line.pk: line.quantity - line.shipped_quantity for line in lines}
        reserved = order.pk in held
        wanted = share_reserved(lines, left, held[order.pk]) if reserved else left
        rows = []
        for line in lines:
            item = stock.get(line.product_id)
            bin_code = item.bin.code if item and item.bin else ""
            rows.append(PickRow(line, bin_code, picked[line.pk], item, wanted[line.pk]))
        rows.sort(key=lambda row: (row.bin == "", row.bin, row.line.sku, row.line.pk))
        result[order.pk] = Picking(rows, reserved)
    return result


def picking(order) -> Picking:
    return picking_for([order])[order.pk]


def pick_rows(order) -> list[PickRow]:
    """The order's lines with their bin location and what is picked, in walking
    order (by bin; lines without a bin last)."""
    return picking(order).rows


@dataclass
class BatchRow:
    bin: str
    sku: str
    name: str
    total: int = 0
    orders: list = field(default_factory=list)  # (order number, quantity)


def batch_pick_list(orders) -> list[BatchRow]:
    """One walk through the warehouse for many orders: each SKU once, in bin order,
    with the total to take and how it splits over the orders. The same few queries
    for one order or thousands (see picking_for)."""
    pickings = picking_for(orders)
    rows: dict[str, BatchRow] = {}
    for order in orders:
        for row in pickings[order.pk].rows:
            if row.left <= 0:
                continue
            batch = rows.setdefault(row.line.sku, BatchRow(row.bin, row.line.sku, row.line.name))
            batch.total += row.left
            batch.orders.append((order, row.left))
    return sorted(rows.values(), key=lambda b: (b.bin == "", b.bin, b.sku))


# Orders on one batch pick list: one walk through the warehouse, and as many numbers
# as the list's form takes.
PICK_WAVE = 200


def orders_to_pick(numbers=None, limit=PICK_WAVE):
    """The orders to pick (those numbered, or all), the longest-waiting first, at most
    ``limit``, with their lines."""
    qs = Order.objects.filter(TO_PICK).order_by("fulfilment__acknowledged_at", "pk")
    if numbers:
        qs = qs.filter(number__in=numbers)
    return list(qs.prefetch_related("lines")[:limit])


def packages(order) -> list[Package]:
    """The packages of the order's current picking round (one query)."""
    return list(Package.objects.filter(order=order, round=F("order__fulfilment__round")))


def low_stock(limit=50):
    """Stock rows whose free quantity is at or below their alert threshold."""
    return list(
        StockItem.objects.filter(low_stock_threshold__gt=0)
        .annotate(free=F("on_hand") - F("reserved"))
        .filter(free__lte=F("low_stock_threshold"))
        .select_related("product", "warehouse", "bin")
        .order_by("free", "product__sku")[:limit]
    )


def waiting_demand(product_ids=None) -> dict[int, int]:
    """Units wanted by backordered orders, per product (one query; with
    ``product_ids``, only for those products)."""
    lines = OrderLine.objects.filter(order__status=Status.BACKORDERED)
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    rows = lines.order_by().values("product_id").annotate(units=Sum("quantity"))
    return defaultdict(int, {row["product_id"]: row["units"] for row in rows})
