"""Everything that writes stock. Quantities change only through these functions, with
``F()`` expressions on rows locked in primary-key order; the database's check
constraints refuse a negative quantity or an oversell even if this code is bypassed."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import services as order_services
from orders.models import EventKind, Order, OrderEvent, Status

from .models import MovementKind, Reservation, StockItem, StockMovement, Warehouse


class StockError(order_services.OrderActionError):
    """A stock change was refused; ``message`` is translated and safe to show."""


def main_warehouse() -> Warehouse:
    return Warehouse.objects.get(code="MAIN")


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


def serve_backorders(product_id, *, by, warehouse=None) -> list[int]:
    """Backordered orders that want ``product_id`` get their stock, oldest order first.

    Each order whose every line is now available goes back to confirmed (the
    warehouse queue) and is reserved in the same transaction; an order that still
    cannot be served in full keeps waiting, and younger orders may still be served
    from what is left. Returns the ids of the orders served.
    """
    warehouse = warehouse or main_warehouse()
    waiting = (
        Order.objects.filter(status=Status.BACKORDERED, lines__product_id=product_id)
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    served = []
    for order_id in list(waiting):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status != Status.BACKORDERED:
                continue
            wanted = defaultdict(int)
            for line in order.lines.all():
                wanted[line.product_id] += line.quantity
            items = {
                item.product_id: item
                for item in StockItem.objects.select_for_update()
                .filter(warehouse=warehouse, product_id__in=wanted)
                .order_by("pk")
            }
            if any(pid not in items or items[pid].available < qty for pid, qty in wanted.items()):
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
        for line in order.lines.all():
            wanted[line.product_id] += line.quantity
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
        if shortages:
            note = "; ".join(
                _("%(sku)s: %(wanted)d wanted, %(available)d available")
                % {"sku": s.sku, "wanted": s.wanted, "available": s.available}
                for s in shortages
            )
            order_services.backorder_order(order.pk, by=by, note=note)
            OrderEvent.objects.create(
                order=order,
                kind=EventKind.SYSTEM,
                code="shortage",
                data={
                    "lines": [
                        {"sku": s.sku, "wanted": s.wanted, "available": s.available}
                        for s in shortages
                    ]
                },
            )
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
        OrderEvent.objects.create(
            order=order, actor=by, kind=EventKind.SYSTEM, code="reserved", created_at=now
        )
    return []
