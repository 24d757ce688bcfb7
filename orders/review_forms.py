"""The review meetings' forms: a meeting, an action item, and an action item's update.
Dates are checked against the ranges of orders/validators.py."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models.process import StepCode
from .roles import Role
from .services.review import (
    ACTION_NOTE_MAX,
    ACTION_TITLE_MAX,
    DECISIONS,
    MEETING_FINDINGS_MAX,
    PERIOD_MAX_DAYS,
    possible_owners,
)
from .validators import EARLIEST_DATE, one_year_after


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def last_full_month(today: date | None = None) -> tuple[date, date]:
    """The calendar month before ``today``'s (the business's local day): first, last."""
    today = today or timezone.localdate()
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _not_before_earliest(value: date) -> date:
    if value < EARLIEST_DATE:
        raise ValidationError(
            _("Enter a date from %(first)s on."),
            code="too_old",
            params={"first": EARLIEST_DATE.isoformat()},
        )
    return value


def _not_in_future(value: date) -> date:
    if value > timezone.localdate():
        raise ValidationError(_("This date is in the future."), code="future")
    return value


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


class MeetingForm(forms.Form):
    held_on = forms.DateField(
        label=_("Held on"), widget=DateInput(), validators=[_not_before_earliest, _not_in_future]
    )
    departments = forms.MultipleChoiceField(
        label=_("Departments present"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one department that was present.")},
    )
    period_start = forms.DateField(
        label=_("Pack from"), widget=DateInput(), validators=[_not_before_earliest]
    )
    period_end = forms.DateField(
        label=_("Pack to"), widget=DateInput(), validators=[_not_before_earliest]
    )
    findings = forms.CharField(
        label=_("Findings"),
        max_length=MEETING_FINDINGS_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the meeting found: where the process was slow, and why."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            start, end = last_full_month()
            self.initial.setdefault("held_on", timezone.localdate())
            self.initial.setdefault("period_start", start)
            self.initial.setdefault("period_end", end)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            if end < start:
                self.add_error(
                    "period_end", _("The pack's period must end on or after its first day.")
                )
            elif (end - start).days + 1 > PERIOD_MAX_DAYS:
                self.add_error(
                    "period_end",
                    _("A pack covers at most %(n)d days.") % {"n": PERIOD_MAX_DAYS},
                )
        return data


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=ACTION_TITLE_MAX)
    step = forms.ChoiceField(
        label=_("Step"), choices=[("", _("— any step —")), *StepCode.choices], required=False
    )
    owner = OwnerChoiceField(label=_("Owner"), queryset=possible_owners())
    due_on = forms.DateField(label=_("Due"), widget=DateInput())

    def clean_due_on(self):
        value = self.cleaned_data["due_on"]
        today = timezone.localdate()
        if value < today:
            raise ValidationError(_("The due date cannot be in the past."), code="past")
        last = one_year_after(today)
        if value > last:
            raise ValidationError(
                _("Choose a due date within the coming year, at the latest %(last)s."),
                code="too_far",
                params={"last": last.isoformat()},
            )
        return value


class ActionUpdateForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(key, key) for key in DECISIONS],
        error_messages={"required": _("Choose done, dropped or reopen.")},
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=ACTION_NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    seen = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "dropped" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the action is dropped."))
        return data

    def problem(self) -> str:
        """The first error, as one message."""
        for errors in self.errors.values():
            return str(errors[0])
        return str(_("Please correct the form. Nothing was saved."))
