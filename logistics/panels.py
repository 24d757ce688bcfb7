"""Logistics' panels on the orders pages (registered in LogisticsConfig.ready)."""

from django.template.loader import render_to_string

from orders.models import Status
from orders.roles import Role, has_role

from . import selectors


def _shipments(order) -> list:
    # Both status-page panels show the same shipments: read them once per page.
    if "_public_shipments" not in order.__dict__:
        order.__dict__["_public_shipments"] = selectors.public_shipments(order)
    return order.__dict__["_public_shipments"]


def public_estimate(request, order):
    """The carrier's estimate among the facts of the customer's status page."""
    estimate = selectors.delivery_estimate(_shipments(order))
    if not estimate:
        return None
    return render_to_string(
        "logistics/_public_estimate.html", {"estimate": estimate}, request=request
    )


def public_parcels(request, order):
    """The customer's parcels with their tracking links, on the status page."""
    shipments = _shipments(order)
    if not shipments:
        return None
    return render_to_string(
        "logistics/_public_parcels.html", {"shipments": shipments}, request=request
    )


def work_link(request, order):
    """The link from the staff order page to the logistics page, for Logistics, once
    the order is reviewed and until it is delivered."""
    shown = (
        has_role(request.user, Role.LOGISTICS)
        and order.status in (Status.PICKED, Status.SHIPPED, Status.DELIVERED)
        and (order.status != Status.PICKED or order.reviewed_at is not None)
    )
    if not shown:
        return None
    return render_to_string("logistics/_work_link.html", {"order": order}, request=request)
