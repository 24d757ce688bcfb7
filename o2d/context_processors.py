from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orders.roles import Role, has_role, user_roles

# (url name, label, roles that see it; empty: every staff role)
NAVIGATION = [
    ("manager_dashboard", _("Overview"), (Role.MANAGER,)),
    ("sales_dashboard", _("Sales"), (Role.SALES,)),
    ("warehouse:dashboard", _("Warehouse"), (Role.WAREHOUSE,)),
    ("logistics:dashboard", _("Logistics"), (Role.LOGISTICS,)),
    ("finance:dashboard", _("Finance"), (Role.FINANCE,)),
    ("finance:closing_requests", _("Closing requests"), (Role.SALES,)),
    ("logistics:problems", _("Delivery problems"), (Role.LOGISTICS, Role.SALES)),
    ("feedback:cases", _("Receipts & problems"), (Role.SALES,)),
    ("feedback:survey_analysis", _("Surveys"), (Role.SALES,)),
    ("order_list", _("Orders"), ()),
    ("process", _("Process"), ()),
    ("review_pack", _("Process review"), ()),
]


def navigation(request):
    """The staff navigation: only the pages the signed-in user's roles may open."""
    user = getattr(request, "user", None)
    if user is None or not user_roles(user):
        return {"nav_items": []}
    refresh = settings.O2D_DASHBOARD_REFRESH_SECONDS
    path = request.path
    items = []
    for url_name, label, roles in NAVIGATION:
        if roles and not has_role(user, *roles):
            continue
        items.append({"url": reverse(url_name), "label": label, "active": False})
    # The page is under the longest matching entry only (/finance/requests/ is not
    # also the Finance dashboard).
    matching = [item for item in items if path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {
        "nav_items": items,
        "user_roles": sorted(user_roles(user)),
        "refresh_seconds": refresh,
    }
