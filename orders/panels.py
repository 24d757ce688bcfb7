"""Where department apps contribute their part of an orders page.

``orders`` pages show what other departments add (the parcels on the status page, the
receipt panel, the links to the warehouse and logistics pages) without knowing them,
as pretix plugins add panels to an order page through its ``order_info`` signal. A
department registers a panel from its AppConfig.ready(); the page renders a slot with
``{% panels "slot" order %}`` (``orders/templatetags/order_panels.py``).

Slots: "staff_order" (the staff order page, after the actions), "staff_order:work"
(links to the department pages, in the actions card), "staff_order:waiting" (who the
order waits on, when a department knows better than the order's step clock: the
text replaces the clock's line), "public_status" (cards on the customer's status
page, after the status card), "public_status:facts" (lines in the status card's list
of facts), "manager_overview" and "sales_dashboard" (cards on the managers' overview
and on Sales' dashboard; ``order`` is None).
"""

from collections import defaultdict
from collections.abc import Callable

from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

Panel = Callable[..., str | None]

_PANELS: dict[str, list[tuple[int, Panel]]] = defaultdict(list)


def register(slot: str, panel: Panel, *, position: int = 100) -> None:
    """Show ``panel(request, order)`` in ``slot``; lower positions come first. The
    panel returns its rendered HTML, or None (or "") to show nothing."""
    if any(registered is panel for _, registered in _PANELS[slot]):
        return
    _PANELS[slot].append((position, panel))
    _PANELS[slot].sort(key=lambda entry: entry[0])


def render(slot: str, request, order) -> SafeString:
    """The slot's panels, in order; an empty string when none shows anything."""
    parts = []
    for _, panel in _PANELS[slot]:
        html = panel(request, order)
        if not html or not str(html).strip():
            continue
        # Rendered templates are safe; anything else is escaped.
        safe = isinstance(html, SafeData)
        parts.append(mark_safe(html.strip()) if safe else conditional_escape(html.strip()))  # noqa: S308
    return mark_safe("\n".join(parts))  # noqa: S308  (each part is escaped or already safe)
