"""The review pack's period: two local dates, both included, at most 366 days."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..validators import check_search_date

MAX_DAYS = 366


def last_month(today: date | None = None) -> tuple[date, date]:
    """The last full calendar month before ``today`` (local)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def last_week(today: date | None = None) -> tuple[date, date]:
    """The last full week (Monday to Sunday) before ``today`` (local)."""
    today = today or timezone.localdate()
    end = today - timedelta(days=today.weekday() + 1)
    return end - timedelta(days=6), end


def _date_field(label):
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Enter the date."), "invalid": _("Enter a valid date.")},
    )


class PeriodForm(forms.Form):
    start = _date_field(pgettext_lazy("period", "From"))
    end = _date_field(pgettext_lazy("period", "To"))

    def clean_start(self):
        return check_search_date(self.cleaned_data["start"])

    def clean_end(self):
        return check_search_date(self.cleaned_data["end"])

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end comes before the start."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "end", _("Choose at most %(days)d days at a time.") % {"days": MAX_DAYS}
                )
        return data


def period_form(params) -> PeriodForm:
    """The form for the query string; without dates, bound to the last full month."""
    if "start" not in params and "end" not in params:
        start, end = last_month()
        params = {"start": start.isoformat(), "end": end.isoformat()}
    return PeriodForm(params)
