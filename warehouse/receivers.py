"""The warehouse keeps its rows in step with the order's status, inside the same
transaction as the status change (see orders.signals.order_status_changing)."""

from django.dispatch import receiver

from orders.models import Order, Status
from orders.signals import order_status_changing, partial_delivery_agreed, return_inspected

from .models import Fulfilment, MovementKind
from .services import release_reservations, serve_backorders, take_back


@receiver(order_status_changing, sender=Order, dispatch_uid="warehouse.stock_follows_status")
def stock_follows_status(sender, order, transition, from_status, to_status, by, **kwargs):
    if to_status in (Status.CANCELLED, Status.BACKORDERED):
        # Stock held for an order that will not be picked now goes back on the shelf.
        release_reservations(order, by=by)
    elif to_status == Status.SHIPPED:
        # The goods left the building: they leave the stock too.
        release_reservations(order, by=by, kind=MovementKind.SHIPMENT)
    if to_status == Status.BACKORDERED:
        # Whatever was picked goes back; picking starts over when stock returns.
        fulfilment = Fulfilment.objects.select_for_update().filter(order=order).first()
        if fulfilment is not None:
            fulfilment.round += 1
            fulfilment.packed_at = None
            fulfilment.packed_by = None
            fulfilment.save(update_fields=["round", "packed_at", "packed_by"])


@receiver(partial_delivery_agreed, sender=Order, dispatch_uid="warehouse.serve_agreed_part")
def serve_agreed_part(sender, order_id, **kwargs):
    """The customer will take what is here first: pick it now if anything is."""
    serve_backorders(order_ids=[order_id], by=None)


@receiver(return_inspected, dispatch_uid="warehouse.take_back_returned_goods")
def take_back_returned_goods(sender, order, rma, units, by, at, **kwargs):
    """Inspected returned goods: back to stock, written off or sent to repair."""
    take_back(order, units, rma=rma, by=by, at=at)
