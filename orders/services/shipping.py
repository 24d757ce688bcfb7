"""What has left the building, per order line: logistics reports it when it ships."""

from django.db import transaction
from django.db.models import F

from ..models import OrderLine


def record_shipped_quantities(order, quantities: dict[int, int]) -> None:
    """Add ``{order line id: units}`` of ``order`` to the lines' shipped quantities.

    Called by logistics in the transaction that creates the shipment lines. F() updates,
    so concurrent shipments add up; the check constraint refuses more than was ordered.
    """
    with transaction.atomic():
        for line_id, units in quantities.items():
            if units:
                updated = OrderLine.objects.filter(pk=line_id, order=order).update(
                    shipped_quantity=F("shipped_quantity") + units
                )
                if updated != 1:
                    raise ValueError(f"Line {line_id} is not a line of order {order.number}.")
