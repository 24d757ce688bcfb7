from django.utils.translation import gettext_lazy as _

from orders.models import Status
from orders.roles import Role
from orders.views import DashboardView


class LogisticsDashboard(DashboardView):
    roles = (Role.LOGISTICS,)
    title = _("Logistics")
    queues = [
        ("to_ship", _("To ship"), [Status.PICKED]),
        ("in_transit", _("In transit"), [Status.SHIPPED]),
    ]
