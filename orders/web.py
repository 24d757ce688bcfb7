"""What every app's pages share: the dashboard base view and how a refused action is
answered. Department views import these from here."""

from django.contrib import messages
from django.views.generic import TemplateView

from . import selectors, services
from .access import RoleRequiredMixin
from .clock import steps_by_code

# How each refusal is answered: wrong role 403, changed or wrong state 409, else 400.
ERROR_STATUS = {
    services.TransitionForbidden: 403,
    services.OrderChanged: 409,
    services.TransitionNotAllowed: 409,
}


def error_status(error) -> int:
    """The HTTP status for a refused action (subclasses answer like their parents)."""
    for kind, status in ERROR_STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def refused(request, error) -> int:
    """Show a refused action's reason as a message; the HTTP status to answer with."""
    messages.error(request, error.message)
    return error_status(error)


class DashboardView(RoleRequiredMixin, TemplateView):
    """A role's dashboard: queues of the orders waiting on that role, most urgent first.

    Department apps subclass it with their own ``roles`` and ``queues``; the queue
    section reloads itself through htmx (``?partial=1``).
    """

    template_name = "orders/dashboard.html"
    partial_template_name = "orders/_dashboard_queues.html"
    # A department's own sections below its queues (low stock, delivery problems...).
    extra_sections_template = ""
    title = ""
    queues: list[tuple[str, str, list[str]]] = []

    def get_queues(self):
        steps = steps_by_code()
        return [
            selectors.queue(key, title, statuses, steps=steps)
            for key, title, statuses in self.queues
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["queues"] = self.get_queues()
        context["partial_template_name"] = self.partial_template_name
        context["extra_sections_template"] = self.extra_sections_template
        return context

    def get_template_names(self):
        if self.request.htmx or self.request.GET.get("partial"):
            return [self.partial_template_name]
        return [self.template_name]
