"""What every app's pages share: the dashboard base view and how a refused action is
answered. Department views import these from here."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from . import selectors, services
from .access import RoleRequiredMixin
from .clock import steps_by_code
from .models import ActionItem, ActionStatus, OrderEvent
from .roles import Role, has_role

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


class BoundedPaginator(Paginator):
    """A paginator that counts at most ``limit`` objects, one more to know that there
    are more: the count of a broad search over a million orders reads ``limit + 1``
    index entries instead of every matching row. Pages stop at the limit; the page
    says so and asks for a narrower search (``more``)."""

    def __init__(self, object_list, per_page, *, limit, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit
        if count is not None:  # already known (e.g. from a search): not counted again
            self.__dict__["count"] = min(count, limit + 1)

    @cached_property
    def count(self):
        # Unordered: a count needs no sort, and an ORDER BY would invite the planner
        # to walk the sort's index until the limit, however rare the matches.
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def more(self) -> bool:
        return self.count > self.limit


def newest_ids(models) -> list[int]:
    """The highest primary key of each model's table (0 when empty), in one query."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        # Names from the models, quoted: no user input reaches this SQL.
        f"(SELECT MAX({quote(model._meta.pk.column)}) FROM {quote(model._meta.db_table)})"  # noqa: S608
        for model in models
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return [n or 0 for n in cursor.fetchone()]


class DashboardView(RoleRequiredMixin, TemplateView):
    """A role's dashboard: queues of the orders waiting on that role, most urgent first.

    Department apps subclass it with their own ``roles`` and ``queues`` (or
    ``get_queue_specs``). The live section reloads itself through htmx
    (``?partial=1&since=<version>``); when nothing it shows can have changed since the
    version the browser holds, the answer is an empty 204 (htmx swaps nothing), so an
    idle dashboard costs a few index lookups per refresh instead of its queries.
    """

    template_name = "orders/dashboard.html"
    partial_template_name = "orders/_dashboard_queues.html"
    live_template_name = "orders/_live.html"
    live_id = "queues"
    # A department's own sections below its queues (low stock, delivery problems...).
    extra_sections_template = ""
    title = ""
    # (key, title, statuses) or (key, title, statuses, where), or QueueSpecs.
    queues: list = []
    # Besides the timeline (every change of an order records an event), the models
    # whose new rows change what this dashboard shows (e.g. stock movements).
    version_models: tuple = ()
    # Clocks ("due in 2 h", late, due soon) move with time: a new version each minute.
    version_seconds = 60

    def get_queue_specs(self) -> list:
        return [
            spec if isinstance(spec, selectors.QueueSpec) else selectors.QueueSpec(*spec)
            for spec in self.queues
        ]

    def get_queues(self):
        return selectors.queues(self.get_queue_specs(), steps=steps_by_code())

    def version(self) -> str:
        """What the live section's content depends on: the newest timeline event (and
        the newest row of ``version_models``), and the current minute."""
        latest = newest_ids([OrderEvent, *self.version_models])
        minute = int(timezone.now().timestamp()) // self.version_seconds
        return "-".join(str(n) for n in [*latest, minute])

    def is_partial(self) -> bool:
        return bool(self.request.htmx or self.request.GET.get("partial"))

    def get(self, request, *args, **kwargs):
        self.current_version = self.version()
        since = request.GET.get("since")
        if self.is_partial() and since and since == self.current_version:
            return HttpResponse(status=204)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["queues"] = self.get_queues()
        context["partial_template_name"] = self.partial_template_name
        context["extra_sections_template"] = self.extra_sections_template
        context["live_id"] = self.live_id
        context["version"] = self.current_version
        # The same rule as the order form's own check (sales_required), from the roles
        # already read for the page: not Django's permissions (two more queries).
        context["can_create_order"] = has_role(self.request.user, Role.SALES)
        if not self.is_partial():
            # Outside the live section: the user's open action items from the review
            # meetings, in one query however many there are.
            context["my_review_actions"] = self.get_review_actions()
            context["review_today"] = timezone.localdate()
        return context

    def get_review_actions(self):
        # Lazy: read once where the template shows it (orders/review/_my_actions.html),
        # not at all by a dashboard whose template does not.
        return (
            ActionItem.objects.filter(owner=self.request.user, status=ActionStatus.OPEN)
            .select_related("meeting")
            .only("pk", "title", "due_on", "meeting_id", "meeting__held_on")
            .order_by("due_on", "pk")
        )

    def get_template_names(self):
        if self.is_partial():
            return [self.live_template_name]
        return [self.template_name]
