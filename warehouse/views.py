from django.utils.translation import gettext_lazy as _

from orders.models import Status
from orders.roles import Role
from orders.views import DashboardView


class WarehouseDashboard(DashboardView):
    roles = (Role.WAREHOUSE,)
    title = _("Warehouse")
    queues = [
        ("to_pick", _("To pick"), [Status.CONFIRMED]),
        ("backordered", _("Backordered: waiting for stock"), [Status.BACKORDERED]),
    ]
