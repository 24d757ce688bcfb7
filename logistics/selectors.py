"""Reads of logistics' rows for pages; nothing here writes."""

from .models import Shipment

NOT_ARRIVING = ("delivered", "lost", "returned")


def public_shipments(order) -> list:
    """The order's shipments as the customer sees them (carrier, tracking number and
    link, status, estimate), newest first."""
    return list(
        Shipment.objects.filter(order=order)
        .select_related("carrier")
        .order_by("-shipped_at", "-pk")
    )


def delivery_estimate(shipments) -> object:
    """The estimated delivery date of the latest shipment not delivered yet, or None."""
    for shipment in shipments:  # newest first
        # A lost or returned shipment will not arrive: its estimate would mislead.
        if shipment.delivered_at is None and shipment.status not in NOT_ARRIVING:
            return shipment.estimated_delivery
    return None
