"""Goods a customer sent back, after their inspection (feedback owns the return and
its inspection; orders.signals.return_inspected brings the result here)."""

from collections import defaultdict

from django.db import transaction
from django.db.models import F

from orders.models import Order

from ..models import MovementKind, StockItem, StockMovement
from .stock import main_warehouse, serve_backorders

KINDS = {
    "restock": MovementKind.RETURN_RESTOCK,
    "write_off": MovementKind.RETURN_WRITE_OFF,
    "repair": MovementKind.RETURN_REPAIR,
}


def take_back(order: Order, units, *, rma: str, by, at) -> list[StockMovement]:
    """Record each inspected unit of a return: units back to stock are added to on hand
    (the reserved quantity is not touched); units written off or sent to repair never
    re-enter the stock, and their movement records what became of them. Runs in the
    inspection's transaction; the stock rows are locked in primary-key order, as
    reservations lock them. Backorders waiting for the restocked goods are served
    after commit."""
    by_product: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for product_id, disposition, quantity in units:
        if quantity > 0:
            by_product[product_id][disposition] += quantity
    if not by_product:
        return []
    warehouse = main_warehouse()
    for product_id in by_product:
        StockItem.objects.get_or_create(warehouse=warehouse, product_id=product_id)
    items = {
        item.product_id: item
        for item in StockItem.objects.select_for_update()
        .filter(warehouse=warehouse, product_id__in=by_product)
        .order_by("pk")
    }
    movements = []
    for product_id, dispositions in sorted(by_product.items()):
        item = items[product_id]
        for disposition, quantity in dispositions.items():
            change = quantity if disposition == "restock" else 0
            if change:
                StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + change)
            movements.append(
                StockMovement(
                    stock_item=item,
                    kind=KINDS[disposition],
                    on_hand_change=change,
                    reason=f"{rma} × {quantity}",
                    order=order,
                    by=by,
                    created_at=at,
                )
            )
    StockMovement.objects.bulk_create(movements)
    restocked = [pid for pid, d in by_product.items() if d.get("restock")]
    if restocked:
        transaction.on_commit(
            lambda: [serve_backorders(pid, by=by, warehouse=warehouse) for pid in restocked]
        )
    return movements
