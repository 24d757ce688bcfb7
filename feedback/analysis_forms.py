"""The survey analysis page's filters: a period of local dates, a channel and words to
find in the comments."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders import validators
from orders.forms.staff import SearchField
from orders.models import Channel

from .analysis import default_period

# The longest period one page counts (a year, leap day included).
MAX_PERIOD_DAYS = 366


class SurveyAnalysisForm(forms.Form):
    date_from = forms.DateField(
        label=_("Period from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_search_date],
    )
    date_to = forms.DateField(
        label=_("Period to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_search_date],
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    q = SearchField(label=_("Comment contains"), max_length=100)

    def __init__(self, data=None, *args, today=None, **kwargs):
        """Empty dates take the default period, shown in the fields: the last twelve
        weeks up to today (the business's local date)."""
        self.today = today or timezone.localdate()
        data = data.copy() if data is not None else {}
        if not data.get("date_to"):
            data["date_to"] = self.today.isoformat()
        if not data.get("date_from"):
            to = self._date(data["date_to"]) or self.today
            data["date_from"] = default_period(to)[0].isoformat()
        super().__init__(data, *args, **kwargs)

    @staticmethod
    def _date(value):
        try:
            return forms.DateField().clean(value)
        except forms.ValidationError:
            return None

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise forms.ValidationError(
                    _("The start date must not be after the end date."), code="reversed"
                )
            if (end - start).days + 1 > MAX_PERIOD_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days."),
                    code="too_long",
                    params={"days": MAX_PERIOD_DAYS},
                )
        return data

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "channel": data["channel"],
            "q": data["q"].strip(),
        }
