"""The warehouse's work on an order: hand-off, picking, packing, review."""

from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from orders import services as order_services
from orders import timeline
from orders.models import Order, Status

from ..models import (
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
)
from .stock import (
    Shortage,
    StockError,
    _backorder_for,
    _require_warehouse,
    reserve_order,
    unshipped_quantities,
)


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
            timeline.record(
                order,
                "acknowledged",
                actor=by,
                public=True,
                created_at=fulfilment.acknowledged_at,
            )
    return reserve_order(order_id, by=by)


def pick_targets(order) -> dict[int, int]:
    """How many units of each line to pick now: what is not shipped yet, limited to
    what is reserved for its product (less than that only when the customer agreed to
    receive the available goods first), shared over the product's lines in order."""
    held = defaultdict(int)
    for product_id, quantity in Reservation.objects.filter(
        order=order, released_at__isnull=True
    ).values_list("stock_item__product_id", "quantity"):
        held[product_id] += quantity
    return share_reserved(order.lines.all(), unshipped_quantities(order), held)


def share_reserved(lines, left: dict[int, int], held: dict[int, int]) -> dict[int, int]:
    """Units to pick per line: what is ``left`` to ship of it, limited to what is
    ``held`` (reserved) for its product, shared over the product's lines in order.
    Reads nothing: the pick lists compute it for many orders from rows read in bulk."""
    held = defaultdict(int, held)
    targets = {}
    for line in lines:
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
        # The movement names the kind and the picker's note (kept whole on the
        # discrepancy); the two together may pass the movement's 300 characters.
        reason = Truncator(
            f"{DiscrepancyKind(kind).label}: {note}" if note else str(DiscrepancyKind(kind).label)
        ).chars(StockMovement._meta.get_field("reason").max_length)
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
        timeline.record(
            order,
            "discrepancy",
            actor=by,
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
        timeline.record(order, "packed", actor=by, public=True, created_at=fulfilment.packed_at)
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
        timeline.record(
            order,
            "review_passed" if passed else "review_failed",
            actor=by,
            note=notes,
            created_at=now,
        )
        if passed:
            order_services.mark_reviewed(order, now)
        else:
            order_services.repick_order(order.pk, by=by, note=notes)
            fulfilment.round += 1
            fulfilment.packed_at = None
            fulfilment.packed_by = None
            fulfilment.save(update_fields=["round", "packed_at", "packed_by"])
    return review


def mark_packages_shipped(package_ids, *, carrier_name: str, tracking_number: str) -> int:
    """Note on packages which carrier took them and under which tracking number.

    Called by logistics when it ships, so the label can print both; warehouse never
    reads logistics' tables. Returns how many packages were marked.
    """
    return Package.objects.filter(pk__in=list(package_ids)).update(
        carrier_name=carrier_name, tracking_number=tracking_number
    )
