from django.utils.translation import gettext_lazy as _

from orders.models import Status
from orders.roles import Role
from orders.web import DashboardView


class FinanceDashboard(DashboardView):
    roles = (Role.FINANCE,)
    title = _("Finance")
    queues = [
        ("to_close", _("Delivered: to close"), [Status.DELIVERED]),
    ]
