"""Customers' delivery change requests: an order's, and those waiting for Sales."""

from ..models import Order
from .dashboards import QUEUE_SIZE


def change_requests_for(order: Order) -> list:
    from ..models import DeliveryChangeRequest

    return list(
        DeliveryChangeRequest.objects.filter(order=order)
        .select_related("decided_by")
        .order_by("-created_at", "-pk")
    )


def pending_change_requests(limit=QUEUE_SIZE) -> list:
    """Customers' delivery change requests waiting for Sales, oldest first."""
    from ..models import ChangeRequestStatus, DeliveryChangeRequest

    return list(
        DeliveryChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING)
        .select_related("order__customer")
        .order_by("created_at", "pk")[:limit]
    )
