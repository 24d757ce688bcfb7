"""The warehouse's panels on the orders pages (registered in WarehouseConfig.ready)."""

from django.template.loader import render_to_string

from orders.models import Status
from orders.roles import Role, has_role


def work_link(request, order):
    """The link from the staff order page to the warehouse page, while the warehouse
    has work on the order."""
    shown = has_role(request.user, Role.WAREHOUSE) and order.status in (
        Status.CONFIRMED,
        Status.BACKORDERED,
        Status.PICKED,
    )
    if not shown:
        return None
    return render_to_string("warehouse/_work_link.html", {"order": order}, request=request)
