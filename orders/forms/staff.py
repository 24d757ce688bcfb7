"""The staff order pages' forms: search, actions, verification, dates, comments, decisions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..models import Channel, Status, VerificationMethod

TOKEN_ERRORS = {
    "required": _("This form has expired. Please reload the page and try again."),
    "invalid": _("This form has expired. Please reload the page and try again."),
}


class SearchField(forms.CharField):
    """Text typed into a search box or sent in a query string. Like every CharField it
    refuses a NUL character, which PostgreSQL cannot compare: the page answers 400
    with the message instead of a 500. A value longer than ``max_length`` is cut, not
    refused: a search box that finds nothing is enough of an answer to junk."""

    def __init__(self, *, max_length, **kwargs):
        self.cut_at = max_length
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(value)[: self.cut_at]


class CustomerLookupForm(forms.Form):
    """What Sales has typed so far into the staff order form, to offer existing customers."""

    customer_phone = SearchField(label=_("Customer phone"), max_length=40)
    customer_email = SearchField(label=_("Customer email"), max_length=200)
    customer_name = SearchField(label=_("Customer name"), max_length=120)


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_(
            "Order number, phone number or name; one or two characters find names "
            "starting with them."
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    date_from = forms.DateField(
        label=_("Placed from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_search_date],
    )
    date_to = forms.DateField(
        label=_("Placed to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_search_date],
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=40)
    expected_status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(label=_("Reason or note"), required=False, max_length=2000)
    # Confirmation only: how the customer confirmed and the date promised to them.
    promised_date = forms.DateField(
        label=_("Promised delivery date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_promised_date],
    )
    method = forms.ChoiceField(
        label=_("Confirmed by"),
        required=False,
        choices=[
            (VerificationMethod.PHONE, VerificationMethod.PHONE.label),
            (VerificationMethod.EMAIL, VerificationMethod.EMAIL.label),
        ],
    )
    agreed = forms.CharField(label=_("What was agreed"), required=False, max_length=2000)

    def problem(self) -> str:
        """What to tell the user when the form is invalid: a date they can correct, or
        that the request was incomplete (the other fields are not typed by people)."""
        if self.errors.get("promised_date"):
            return self.errors["promised_date"][0]
        return str(_("The request was incomplete. Nothing was done."))

    def action_fields(self):
        data = self.cleaned_data
        if data["action"] != "confirm":
            return {}
        return {
            "promised_date": data["promised_date"],
            "method": data["method"] or VerificationMethod.PHONE,
            "agreed": data["agreed"],
        }


class VerifyForm(forms.Form):
    contact = forms.BooleanField(label=_("Contact details checked"), required=False)
    address = forms.BooleanField(label=_("Delivery address checked"), required=False)
    method = forms.ChoiceField(
        label=_("How"),
        choices=[
            (VerificationMethod.PHONE, VerificationMethod.PHONE.label),
            (VerificationMethod.EMAIL, VerificationMethod.EMAIL.label),
        ],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class NewDateForm(forms.Form):
    """Sales records the new delivery date agreed with the customer (e.g. after a shortage)."""

    date = forms.DateField(
        label=_("New delivery date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validators.check_promised_date],
    )
    method = forms.ChoiceField(
        label=_("Agreed by"),
        choices=[
            (VerificationMethod.PHONE, VerificationMethod.PHONE.label),
            (VerificationMethod.EMAIL, VerificationMethod.EMAIL.label),
        ],
    )
    agreed = forms.CharField(
        label=_("What was agreed"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("A comment cannot be empty.")},
    )


class PartialDeliveryForm(forms.Form):
    """Sales records that the customer takes the available goods first."""

    note = forms.CharField(
        label=_("What the customer said"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ChangeDecisionForm(forms.Form):
    """Sales approves a customer's delivery change request, or refuses it with a reason."""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        error_messages={"required": _("Choose to approve or refuse.")},
    )
    reason = forms.CharField(
        label=_("Reason for the customer"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The customer sees this on the status page and in the email: write it for them."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the customer a reason for the refusal."))
        return data
