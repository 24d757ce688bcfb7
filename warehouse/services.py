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

from .models import (
    Discrepancy,
    DiscrepancyKind,
    DiscrepancyOutcome,
    Fulfilment,
    MovementKind,
    Package,
    Pick,
    Reservation,
    Review,
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
        OrderEvent.objects.create(
            order=order, actor=by, kind=EventKind.SYSTEM, code="reserved", created_at=now
        )
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
    OrderEvent.objects.create(
        order=order,
        kind=EventKind.SYSTEM,
        code="shortage",
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


# ---------------------------------------------------------------------------
# The warehouse's work on an order: hand-off, picking, packing, review


def _lock(order_id) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _fulfilment(order) -> Fulfilment:
    fulfilment = Fulfilment.objects.select_for_update().filter(order=order).first()
    if fulfilment is None:
        raise StockError(_("Acknowledge the order first."))
    return fulfilment


def acknowledge_order(order_id, *, by) -> list[Shortage]:
    """The warehouse takes over a confirmed order: who and when go on the timeline and
    start the warehouse's own clock; then its stock is checked and reserved (or the
    shortage loop starts). Acknowledging twice changes nothing."""
    _require_warehouse(by)
    with transaction.atomic():
        order = _lock(order_id)
        if order.status != Status.CONFIRMED:
            raise order_services.not_possible_now(order)
        fulfilment, created = Fulfilment.objects.get_or_create(
            order=order, defaults={"acknowledged_by": by, "acknowledged_at": timezone.now()}
        )
        if created:
            OrderEvent.objects.create(
                order=order,
                actor=by,
                kind=EventKind.SYSTEM,
                code="acknowledged",
                public=True,
                created_at=fulfilment.acknowledged_at,
            )
    return reserve_order(order_id, by=by)


def unshipped_quantities(order) -> dict[int, int]:
    """Units of each order line not shipped yet (an order may ship in parts)."""
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    rows = order.lines.annotate(sent=Coalesce(Sum("shipped__quantity"), 0)).values_list(
        "pk", "quantity", "sent"
    )
    return {pk: quantity - sent for pk, quantity, sent in rows}


def pick_targets(order) -> dict[int, int]:
    """How many units of each line to pick now: what is not shipped yet, limited to
    what is reserved for its product (less than that only when the customer agreed to
    receive the available goods first), shared over the product's lines in order."""
    left = unshipped_quantities(order)
    held = defaultdict(int)
    for product_id, quantity in Reservation.objects.filter(
        order=order, released_at__isnull=True
    ).values_list("stock_item__product_id", "quantity"):
        held[product_id] += quantity
    targets = {}
    for line in order.lines.all():
        targets[line.pk] = min(left.get(line.pk, 0), held[line.product_id])
        held[line.product_id] -= targets[line.pk]
    return targets


def picked_quantities(order, round_) -> dict[int, int]:
    """Units picked so far per order line in picking round ``round_``."""
    picked = defaultdict(int)
    for line_id, quantity in Pick.objects.filter(order=order, round=round_).values_list(
        "line_id", "quantity"
    ):
        picked[line_id] += quantity
    return picked


def _ready_to_pick(order) -> Fulfilment:
    if order.status != Status.CONFIRMED:
        raise order_services.not_possible_now(order)
    fulfilment = _fulfilment(order)
    if not order.reservations.filter(released_at__isnull=True).exists():
        raise StockError(_("The stock for this order is not reserved yet: check stock first."))
    return fulfilment


def record_pick(order_id, *, by, scanned: str, quantity: int = 1, line_id=None) -> Pick:
    """Confirm units taken from the shelf by scanning or typing their SKU.

    The SKU must be one of the order's lines that still needs units (or, with
    ``line_id``, that line's SKU); the quantity may not exceed what is left to pick.
    When the last unit is picked the order becomes picked. Returns the pick.
    """
    _require_warehouse(by)
    code = (scanned or "").strip()
    if not code:
        raise StockError(_("Scan or type the SKU."))
    if not isinstance(quantity, int) or quantity < 1:
        raise StockError(_("Enter a quantity of at least 1."))
    with transaction.atomic():
        order = _lock(order_id)
        fulfilment = _ready_to_pick(order)
        picked = picked_quantities(order, fulfilment.round)
        lines = list(order.lines.all())
        if line_id is not None:
            lines = [line for line in lines if line.pk == line_id]
            if not lines:
                raise StockError(_("That line is not on this order."))
        matching = [line for line in lines if line.sku.casefold() == code.casefold()]
        if not matching:
            if line_id is not None:
                raise StockError(
                    _("Wrong item: you scanned %(scanned)s, this line wants %(sku)s.")
                    % {"scanned": code, "sku": lines[0].sku}
                )
            raise StockError(
                _("%(scanned)s is not on order %(number)s.")
                % {"scanned": code, "number": order.number}
            )
        targets = pick_targets(order)
        open_lines = [line for line in matching if picked[line.pk] < targets[line.pk]]
        if not open_lines:
            raise StockError(
                _("All units of %(sku)s are picked already.") % {"sku": matching[0].sku}
            )
        line = open_lines[0]
        left = targets[line.pk] - picked[line.pk]
        if quantity > left:
            raise StockError(
                _("Only %(left)d more of %(sku)s are needed.") % {"left": left, "sku": line.sku}
            )
        pick = Pick.objects.create(
            order=order,
            line=line,
            round=fulfilment.round,
            quantity=quantity,
            scanned=code[:60],
            by=by,
            created_at=timezone.now(),
        )
        picked[line.pk] += quantity
        if all(picked[pk] >= target for pk, target in targets.items()):
            order_services.pick_order(order.pk, by=by)
    return pick


def report_discrepancy(
    order_id, *, by, line_id, kind: str, quantity: int, note: str = ""
) -> Discrepancy:
    """A problem while picking a line: units not found or damaged.

    The units are written off the stock row (on hand and reserved). If other units of
    the product are free, they are reserved instead and picking goes on; otherwise the
    order is backordered (the shortage loop: Sales is told) and picking starts over in
    a new round when stock comes back.
    """
    _require_warehouse(by)
    if kind not in DiscrepancyKind.values:
        raise StockError(_("Choose what the problem is."))
    if not isinstance(quantity, int) or quantity < 1:
        raise StockError(_("Enter a quantity of at least 1."))
    note = (note or "").strip()[:300]
    with transaction.atomic():
        order = _lock(order_id)
        fulfilment = _ready_to_pick(order)
        line = order.lines.filter(pk=line_id).first()
        if line is None:
            raise StockError(_("That line is not on this order."))
        left = pick_targets(order)[line.pk] - picked_quantities(order, fulfilment.round)[line.pk]
        if quantity > left:
            raise StockError(
                _("Only %(left)d of %(sku)s are still to pick.") % {"left": left, "sku": line.sku}
            )
        reservation = (
            Reservation.objects.select_for_update()
            .filter(order=order, released_at__isnull=True, stock_item__product_id=line.product_id)
            .first()
        )
        if reservation is None:
            raise StockError(_("The stock for this order is not reserved yet: check stock first."))
        item = StockItem.objects.select_for_update().get(pk=reservation.stock_item_id)
        now = timezone.now()
        reason = (
            f"{DiscrepancyKind(kind).label}: {note}" if note else str(DiscrepancyKind(kind).label)
        )
        StockItem.objects.filter(pk=item.pk).update(
            on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity
        )
        StockMovement.objects.create(
            stock_item=item,
            kind=MovementKind.WRITE_OFF,
            on_hand_change=-quantity,
            reserved_change=-quantity,
            reason=reason,
            order=order,
            by=by,
            created_at=now,
        )
        item.refresh_from_db()
        if item.available >= quantity:
            outcome = DiscrepancyOutcome.REPLACED
            StockItem.objects.filter(pk=item.pk).update(reserved=F("reserved") + quantity)
            StockMovement.objects.create(
                stock_item=item,
                kind=MovementKind.RESERVATION,
                reserved_change=quantity,
                reason=str(DiscrepancyOutcome.REPLACED.label),
                order=order,
                by=by,
                created_at=now,
            )
        else:
            outcome = DiscrepancyOutcome.BACKORDERED
            # The written-off units are no longer held for the order.
            if reservation.quantity > quantity:
                Reservation.objects.filter(pk=reservation.pk).update(
                    quantity=F("quantity") - quantity
                )
            else:
                Reservation.objects.filter(pk=reservation.pk).update(released_at=now)
        discrepancy = Discrepancy.objects.create(
            order=order,
            line=line,
            round=fulfilment.round,
            kind=kind,
            quantity=quantity,
            note=note,
            outcome=outcome,
            by=by,
            created_at=now,
        )
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="discrepancy",
            note=note,
            data={"sku": line.sku, "kind": kind, "quantity": quantity, "outcome": outcome},
            created_at=now,
        )
        if outcome == DiscrepancyOutcome.BACKORDERED:
            left_now = unshipped_quantities(order)
            wanted = sum(
                left_now[each.pk] for each in order.lines.filter(product_id=line.product_id)
            )
            # What the order could still have: the free units plus what it still holds.
            held = max(reservation.quantity - quantity, 0)
            _backorder_for(
                order, [Shortage(line.sku, wanted, max(item.available, 0) + held)], by=by
            )
    return discrepancy


def _ready_to_pack(order) -> Fulfilment:
    if order.status != Status.PICKED:
        raise order_services.not_possible_now(order)
    fulfilment = _fulfilment(order)
    if fulfilment.packed_at is not None:
        raise StockError(_("Order %(number)s is packed already.") % {"number": order.number})
    return fulfilment


def add_package(order_id, *, by, weight_kg, length_cm, width_cm, height_cm) -> Package:
    """One more parcel for a picked order (measures are validated by the form and
    by the database)."""
    _require_warehouse(by)
    with transaction.atomic():
        order = _lock(order_id)
        fulfilment = _ready_to_pack(order)
        return Package.objects.create(
            order=order,
            round=fulfilment.round,
            weight_kg=weight_kg,
            length_cm=length_cm,
            width_cm=width_cm,
            height_cm=height_cm,
            by=by,
            created_at=timezone.now(),
        )


def remove_package(order_id, package_id, *, by) -> None:
    """Take back a parcel entered by mistake, before packing is finished."""
    _require_warehouse(by)
    with transaction.atomic():
        order = _lock(order_id)
        fulfilment = _ready_to_pack(order)
        Package.objects.filter(order=order, round=fulfilment.round, pk=package_id).delete()


def finish_packing(order_id, *, by) -> Fulfilment:
    """All goods are in their parcels: the order waits for review."""
    _require_warehouse(by)
    with transaction.atomic():
        order = _lock(order_id)
        fulfilment = _ready_to_pack(order)
        if not Package.objects.filter(order=order, round=fulfilment.round).exists():
            raise StockError(_("Add at least one package first."))
        fulfilment.packed_at = timezone.now()
        fulfilment.packed_by = by
        fulfilment.save(update_fields=["packed_at", "packed_by"])
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="packed",
            public=True,
            created_at=fulfilment.packed_at,
        )
    return fulfilment


def review_order(order_id, *, by, passed: bool, notes: str = "") -> Review:
    """The review gate: a second person, never one who picked this round, checks the
    packed goods against the order. Passed: the order is ready for logistics. Failed
    (with the reason): the goods go back to picking in a new round."""
    _require_warehouse(by)
    notes = (notes or "").strip()
    if not passed and not notes:
        raise StockError(_("Say what is wrong: the picker needs the reason."))
    with transaction.atomic():
        order = _lock(order_id)
        if order.status != Status.PICKED or order.reviewed_at is not None:
            raise order_services.not_possible_now(order)
        fulfilment = _fulfilment(order)
        if fulfilment.packed_at is None:
            raise StockError(_("Order %(number)s is not packed yet.") % {"number": order.number})
        if by is not None and by.pk in fulfilment.pickers():
            raise order_services.TransitionForbidden(
                _("You picked this order: a second person must review it.")
            )
        now = timezone.now()
        review = Review.objects.create(
            order=order, round=fulfilment.round, passed=passed, notes=notes, by=by, created_at=now
        )
        OrderEvent.objects.create(
            order=order,
            actor=by,
            kind=EventKind.SYSTEM,
            code="review_passed" if passed else "review_failed",
            note=notes,
            created_at=now,
        )
        if passed:
            Order.objects.filter(pk=order.pk).update(reviewed_at=now)
        else:
            order_services.repick_order(order.pk, by=by, note=notes)
            fulfilment.round += 1
            fulfilment.packed_at = None
            fulfilment.packed_by = None
            fulfilment.save(update_fields=["round", "packed_at", "packed_by"])
    return review
