"""The staff's order page: the order with its lines and timeline, and the actions the
user may take on it."""

from django.db.models import Prefetch
from django.http import Http404

from ..clock import attach_clocks
from ..models import Order, OrderEvent


def order_for_staff(number: str) -> Order:
    """One order with lines and the full timeline (staff view), or 404."""
    events = OrderEvent.objects.select_related("actor").order_by("created_at", "pk")
    qs = Order.objects.select_related("customer", "salesperson").prefetch_related(
        "lines", Prefetch("events", queryset=events)
    )
    try:
        order = qs.get(number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    attach_clocks([order])
    return order


def available_actions(order: Order, user) -> list[dict]:
    """The transitions ``user`` may take on ``order`` now, straight from the state machine."""
    actions = []
    # Offered when the role and state allow it, even if a condition (verification)
    # still blocks it: the page then says what is missing instead of hiding the step.
    for transition in order.get_all_status_transitions():
        if transition.source not in (order.status, "*") or not transition.has_perm(order, user):
            continue
        custom = transition.custom
        if custom.get("via"):
            continue  # taken on the department's own page (the pick list, the review)
        actions.append(
            {
                "name": transition.name,
                "label": custom.get("label", transition.name),
                "style": custom.get("style", "primary"),
                "needs_note": bool(custom.get("needs_note")),
                "form": custom.get("form", ""),
                "target": transition.target,
            }
        )
    # Forward actions first, side paths after, destructive ones last.
    rank = {"primary": 0, "warning": 1, "danger": 2}
    return sorted(actions, key=lambda a: rank.get(a["style"], 1))
