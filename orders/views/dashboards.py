"""Sales' and the managers' dashboards."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors
from ..clock import steps_by_code
from ..models import OPEN_STATUSES, Status
from ..roles import Role
from ..selectors import QueueSpec
from ..web import DashboardView


class SalesDashboard(DashboardView):
    roles = (Role.SALES,)
    title = gettext_lazy("Sales")

    def get_queues(self):
        steps = steps_by_code()
        now = timezone.now()
        specs = [
            QueueSpec(
                "to_verify",
                _("New orders: verify contact and address"),
                [Status.PLACED],
                ~selectors.VERIFIED,
            ),
            QueueSpec(
                "to_confirm", _("Awaiting confirmation"), [Status.PLACED], selectors.VERIFIED
            ),
        ]
        no_answer = selectors.no_answer_filter(steps, now)
        if no_answer is not None:
            specs.append(
                QueueSpec(
                    "no_answer",
                    _("No answer after the final limit: call once more or cancel"),
                    [Status.PLACED],
                    no_answer,
                )
            )
        specs.append(
            QueueSpec(
                "backordered", _("Backordered: agree a new delivery date"), [Status.BACKORDERED]
            )
        )
        return selectors.queues(specs, steps=steps, now=now)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["follow_ups"] = selectors.open_follow_ups(self.request.user)
        context["show_follow_ups"] = True
        context["change_requests"] = selectors.pending_change_requests()
        context["show_change_requests"] = True
        return context


class ManagerDashboard(DashboardView):
    roles = (Role.MANAGER,)
    title = gettext_lazy("Overview")
    template_name = "orders/manager_dashboard.html"
    partial_template_name = "orders/_manager_overview.html"
    live_id = "overview"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.status_counts()
        # Open orders are counted all; finished ones over the recent days only.
        context["status_counts"] = [
            (Status(s), counts[s], s not in OPEN_STATUSES) for s in Status.values
        ]
        context["finished_days"] = selectors.FINISHED_COUNT_DAYS
        context["late_orders"] = selectors.late_orders()
        context["escalated"] = selectors.escalated_follow_ups()
        return context

    def get_queues(self):
        return []
