from django import template
from django.utils.translation import ngettext

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
