from django import template
from django.utils import dateformat
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.filter
def duration_hours(value) -> str:
    """A target time as the staff say it: "24 hours", "3 days"."""
    if value is None:
        return ""
    hours = round(value.total_seconds() / 3600)
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


# The step clock's and the status's badges are drawn on every row of the dashboards'
# queues: written here in Python rather than as included templates, which cost a
# template context and a lookup per row (orders/_clock.html and _status_badge.html
# call these too, so each badge has one source).


@register.simple_tag
def clock_badge(clock) -> str:
    """The step clock's badge: its state, and the time left or how late it is."""
    if not clock:
        return format_html('<span class="muted">—</span>')
    if clock.state == "late":
        when = gettext("over by %(t)s") % {"t": timesince(clock.due_at)}
    else:
        when = gettext("%(t)s left") % {"t": timeuntil(clock.due_at)}
    due = dateformat.format(localtime(clock.due_at), "Y-m-d H:i")
    return format_html(
        '<span class="badge clock-{}" title="{}">{} · {}</span>',
        clock.state,
        gettext("Due %(due)s") % {"due": due},
        clock.state_label,
        when,
    )


@register.simple_tag
def status_badge(status: str, label: str) -> str:
    return format_html('<span class="badge st-{}">{}</span>', status, label)
