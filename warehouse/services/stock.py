"""Stock: receiving, adjusting, reserving for orders, serving backorders, taking out."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import services as order_services
from orders import timeline
from orders.models import Order, Status

from ..models import (
    MovementKind,
    Reservation,
    StockItem,
    StockMovement,
    Warehouse,
)


class StockError(order_services.OrderActionError):
    """A stock change was refused; ``message`` is translated and safe to show."""


def _require_warehouse(by):
    """Warehouse work needs the warehouse's permission (the pages check the role too)."""
    if by is not None and not by.has_perm("orders.pick_order"):
        raise order_services.TransitionForbidden(
            _("Your role may not take this action on the order.")
        )


# The code of the warehouse orders are served from (created by migration 0002).
MAIN_WAREHOUSE = "MAIN"


def main_warehouse() -> Warehouse:
    return Warehouse.objects.get(code=MAIN_WAREHOUSE)


def stock_item_for(product, warehouse=None) -> StockItem:
    """The stock row of ``product`` in ``warehouse`` (the main one by default), created
    empty when the product has none yet."""
    warehouse = warehouse or main_warehouse()
    item, _created = StockItem.objects.get_or_create(warehouse=warehouse, product=product)
    return item


def receive_goods(stock_item_id, quantity: int, *, by, reason="", serve=True) -> StockItem:
    """Goods arrived: add ``quantity`` to on hand and record the movement; then, with
    ``serve``, waiting backorders are served oldest first (see serve_backorders)."""
    if not isinstance(quantity, int) or not 1 <= quantity <= 1_000_000:
        raise StockError(_("Received quantities must be between 1 and 1,000,000."))
    with transaction.atomic():
        StockItem.objects.filter(pk=stock_item_id).update(on_hand=F("on_hand") + quantity)
        StockMovement.objects.create(
            stock_item_id=stock_item_id,
            kind=MovementKind.RECEIPT,
            on_hand_change=quantity,
            reason=reason,
            by=by,
        )
    item = StockItem.objects.get(pk=stock_item_id)
    if serve:
        serve_backorders(item.product_id, by=by, warehouse=item.warehouse)
    return item


def serve_backorders(product_id=None, *, by, warehouse=None, order_ids=None) -> list[int]:
    """Backordered orders that want ``product_id`` (or the given ``order_ids``) get
    their stock, oldest order first.

    Each order whose every line is now available goes back to confirmed (the
    warehouse queue) and is reserved in the same transaction; so does an order whose
    customer agreed to a partial delivery when some of its goods are here. An order
    that still cannot be served keeps waiting, and younger orders may still be served
    from what is left. Returns the ids of the orders served.
    """
    warehouse = warehouse or main_warehouse()
    waiting = Order.objects.filter(status=Status.BACKORDERED)
    if product_id is not None:
        waiting = waiting.filter(lines__product_id=product_id)
    if order_ids is not None:
        waiting = waiting.filter(pk__in=order_ids)
    waiting = waiting.order_by("placed_at", "pk").values_list("pk", flat=True).distinct()
    served = []
    for order_id in list(waiting):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status != Status.BACKORDERED:
                continue
            wanted = defaultdict(int)
            left = unshipped_quantities(order)
            for line in order.lines.all():
                if left[line.pk] > 0:
                    wanted[line.product_id] += left[line.pk]
            items = {
                item.product_id: item
                for item in StockItem.objects.select_for_update()
                .filter(warehouse=warehouse, product_id__in=wanted)
                .order_by("pk")
            }
            short = [
                pid for pid, qty in wanted.items() if pid not in items or items[pid].available < qty
            ]
            some = any(pid in items and items[pid].available > 0 for pid in wanted)
            if short and not (order.partial_agreed_at and some):
                continue
            order_services.release_backorder(
                order.pk, by=by, note=_("Stock received: back to the warehouse queue.")
            )
            shortages = reserve_order(order.pk, by=by, warehouse=warehouse)
            if not shortages:
                served.append(order.pk)
    return served


def adjust_stock(stock_item_id, change: int, *, by, reason: str) -> StockItem:
    """Correct on hand by ``change`` (count, damage, loss), with a reason. Refused when
    it would make the quantity negative or below what is reserved."""
    reason = (reason or "").strip()
    if not reason:
        raise StockError(_("Give a reason for the adjustment."))
    if not isinstance(change, int) or change == 0 or abs(change) > 1_000_000:
        raise StockError(_("Enter a non-zero change of at most 1,000,000."))
    try:
        with transaction.atomic():
            StockItem.objects.filter(pk=stock_item_id).update(on_hand=F("on_hand") + change)
            StockMovement.objects.create(
                stock_item_id=stock_item_id,
                kind=MovementKind.ADJUSTMENT,
                on_hand_change=change,
                reason=reason,
                by=by,
            )
    except IntegrityError:
        raise StockError(
            _("Not possible: stock cannot go below zero or below what is reserved.")
        ) from None
    return StockItem.objects.get(pk=stock_item_id)


@dataclass(frozen=True)
class Shortage:
    sku: str
    wanted: int
    available: int

    @property
    def missing(self) -> int:
        return self.wanted - self.available


def reserve_order(order_id, *, by, warehouse=None) -> list[Shortage]:
    """Check stock for a confirmed order and reserve all its lines, or none.

    Locks the order, then every stock row it needs in one query in primary-key order
    (so concurrent reservations cannot deadlock), and checks availability only after
    locking (so they cannot oversell). When any line is short, nothing is reserved
    and the order becomes backordered with the shortage on its timeline; the
    shortages are returned. Returns [] when everything was reserved.
    """
    warehouse = warehouse or main_warehouse()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.CONFIRMED:
            raise StockError(
                _("Only confirmed orders are reserved; order %(number)s is %(status)s.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        if order.reservations.filter(released_at__isnull=True).exists():
            return []  # reserved already: running twice changes nothing
        wanted = defaultdict(int)
        skus = {}
        left = unshipped_quantities(order)
        for line in order.lines.all():
            if left[line.pk] > 0:
                wanted[line.product_id] += left[line.pk]
                skus[line.product_id] = line.sku
        for product_id in wanted:
            StockItem.objects.get_or_create(warehouse=warehouse, product_id=product_id)
        items = {
            item.product_id: item
            for item in StockItem.objects.select_for_update()
            .filter(warehouse=warehouse, product_id__in=wanted)
            .order_by("pk")
        }
        shortages = [
            Shortage(skus[pid], qty, max(items[pid].available, 0))
            for pid, qty in wanted.items()
            if items[pid].available < qty
        ]
        free = {pid: max(items[pid].available, 0) for pid in wanted}
        if shortages and order.partial_agreed_at is not None and any(free.values()):
            # The customer agreed to receive what is here first: hold what there is.
            wanted = {pid: min(qty, free[pid]) for pid, qty in wanted.items() if free[pid]}
        elif shortages:
            _backorder_for(order, shortages, by=by)
            return shortages
        now = timezone.now()
        for product_id, quantity in wanted.items():
            item = items[product_id]
            StockItem.objects.filter(pk=item.pk).update(reserved=F("reserved") + quantity)
            Reservation.objects.create(
                order=order, stock_item=item, quantity=quantity, created_at=now
            )
            StockMovement.objects.create(
                stock_item=item,
                kind=MovementKind.RESERVATION,
                reserved_change=quantity,
                order=order,
                by=by,
                created_at=now,
            )
        timeline.record(order, "reserved", actor=by, created_at=now)
    return []


def _backorder_for(order, shortages: list[Shortage], *, by):
    """The shortage loop starts: the order is backordered with which lines are short
    and by how much (Sales is told by the backorder itself)."""
    note = "; ".join(
        _("%(sku)s: %(wanted)d wanted, %(available)d available")
        % {"sku": s.sku, "wanted": s.wanted, "available": s.available}
        for s in shortages
    )
    # The details first, then the backorder (which tells Sales): the timeline reads in order.
    timeline.record(
        order,
        "shortage",
        data={
            "lines": [
                {"sku": s.sku, "wanted": s.wanted, "available": s.available} for s in shortages
            ]
        },
    )
    order_services.backorder_order(order.pk, by=by, note=note)


def take_out(order, quantities_by_line: dict[int, int], *, by, now=None) -> None:
    """Goods of ``order`` left in a shipment: take the shipped units out of stock and
    out of the order's reservations (rows locked in primary-key order)."""
    now = now or timezone.now()
    per_product = defaultdict(int)
    for line in order.lines.filter(pk__in=quantities_by_line):
        per_product[line.product_id] += quantities_by_line[line.pk]
    reservations = {
        r.stock_item.product_id: r
        for r in Reservation.objects.select_for_update()
        .filter(order=order, released_at__isnull=True, stock_item__product_id__in=per_product)
        .select_related("stock_item")
        .order_by("stock_item_id")
    }
    for product_id, quantity in sorted(per_product.items()):
        reservation = reservations.get(product_id)
        if reservation is None or reservation.quantity < quantity:
            raise StockError(_("Only reserved goods can ship; check the order's stock."))
        StockItem.objects.filter(pk=reservation.stock_item_id).update(
            on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity
        )
        StockMovement.objects.create(
            stock_item_id=reservation.stock_item_id,
            kind=MovementKind.SHIPMENT,
            on_hand_change=-quantity,
            reserved_change=-quantity,
            order=order,
            by=by,
            created_at=now,
        )
        if reservation.quantity == quantity:
            Reservation.objects.filter(pk=reservation.pk).update(released_at=now)
        else:
            Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") - quantity)


def release_reservations(order, *, by, kind=MovementKind.RELEASE, now=None) -> int:
    """End the order's open reservations: released back to stock (cancelled or
    backordered), or taken out of stock with ``kind=SHIPMENT`` (the goods left).
    Rows are locked in primary-key order. Returns the number of units."""
    now = now or timezone.now()
    open_reservations = list(
        Reservation.objects.select_for_update()
        .filter(order=order, released_at__isnull=True)
        .order_by("stock_item_id")
    )
    if not open_reservations:
        return 0
    list(
        StockItem.objects.select_for_update()
        .filter(pk__in=[r.stock_item_id for r in open_reservations])
        .order_by("pk")
    )
    shipped = kind == MovementKind.SHIPMENT
    for reservation in open_reservations:
        quantity = reservation.quantity
        StockItem.objects.filter(pk=reservation.stock_item_id).update(
            reserved=F("reserved") - quantity,
            on_hand=F("on_hand") - quantity if shipped else F("on_hand"),
        )
        StockMovement.objects.create(
            stock_item_id=reservation.stock_item_id,
            kind=kind,
            on_hand_change=-quantity if shipped else 0,
            reserved_change=-quantity,
            order=order,
            by=by,
            created_at=now,
        )
    Reservation.objects.filter(pk__in=[r.pk for r in open_reservations]).update(released_at=now)
    return sum(r.quantity for r in open_reservations)


def unshipped_quantities(order) -> dict[int, int]:
    """Units of each order line not shipped yet (an order may ship in parts)."""
    rows = order.lines.values_list("pk", "quantity", "shipped_quantity")
    return {pk: quantity - shipped for pk, quantity, shipped in rows}
