import re
import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import DeliveryWindow

from . import returns as returns_service
from .models import ProblemKind, ReturnOutcome
from .photos import MAX_PHOTOS, check_photo
from .returns import ANSWER_MAX_LENGTH
from .services import DETAILS_MAX_LENGTH, NOTE_MAX_LENGTH, RESOLUTION_MAX_LENGTH

TOKEN = re.compile(r"^[0-9a-f]{32}$")


def new_form_token() -> str:
    """A problem form's submission key: a resubmitted form finds the case it opened."""
    return uuid.uuid4().hex


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files from one input (Django's documented recipe); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(
                attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ProblemReportForm(forms.Form):
    """The customer's problem report on the status page: what, details, photos."""

    token = forms.CharField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=ProblemKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is wrong.")},
    )
    details = forms.CharField(
        label=_("Please tell us more"),
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Which goods, how many, what you see."),
        error_messages={"required": _("Please describe the problem.")},
    )
    photos = MultiplePhotoField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 5 photos, JPEG, PNG or WebP, at most 5 MB each."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "problem-%s")
        super().__init__(*args, **kwargs)

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not TOKEN.match(token):
            raise ValidationError(_("The form was incomplete. Please reload the page."))
        return token

    def clean_photos(self):
        uploads = self.cleaned_data.get("photos") or []
        if len(uploads) > MAX_PHOTOS:
            raise ValidationError(
                _("Send at most %(max)d photos.") % {"max": MAX_PHOTOS}, code="too_many"
            )
        checked, errors = [], []
        for upload in uploads:
            try:
                checked.append(check_photo(upload))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return checked


class PhoneReceiptForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who confirmed, and anything they said."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "phone-receipt-%s")
        super().__init__(*args, **kwargs)


class ResolveCaseForm(forms.Form):
    resolution = forms.CharField(
        label=_("How was it resolved?"),
        max_length=RESOLUTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "E.g. replacement sent, refund, return collected. The customer is emailed this."
        ),
        error_messages={"required": _("Write how the problem was resolved.")},
    )


# ---------------------------------------------------------------------------
# Returns


class _ReturnQuantities(forms.Form):
    """One whole-number field per order line (``<prefix>-<line pk>``), from 0 to what
    may be returned; cleans to {line pk: units} without the zeros."""

    quantity_prefix = "qty"

    def __init__(self, *args, lines=(), maximum=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        maximum = maximum or {}
        for line in self.lines:
            most = maximum.get(line.pk, 0)
            self.fields[f"{self.quantity_prefix}-{line.pk}"] = forms.IntegerField(
                label=line.name,
                min_value=0,
                max_value=most,
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
                help_text=_("%(sku)s · at most %(n)d") % {"sku": line.sku, "n": most},
                error_messages={
                    "invalid": _("Enter how many units, as a whole number."),
                    "max_value": _("At most %(limit_value)s."),
                    "min_value": _("Enter 0 or more."),
                },
            )

    def quantity_fields(self):
        return [self[f"{self.quantity_prefix}-{line.pk}"] for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data.get(f"{self.quantity_prefix}-{line.pk}") or 0
            for line in self.lines
            if self.cleaned_data.get(f"{self.quantity_prefix}-{line.pk}")
        }


class ReturnRequestForm(_ReturnQuantities):
    """The customer's return request on the status page (Sales' phone form leaves the
    photos out): which goods and how many, why, details, photos."""

    token = forms.CharField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label=_("Why do you return them?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose why you return the goods."),
            "invalid_choice": _("Choose why you return the goods."),
        },
    )
    details = forms.CharField(
        label=_("Anything we should know (optional)"),
        required=False,
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultiplePhotoField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 5 photos, JPEG, PNG or WebP, at most 5 MB each."),
    )

    def __init__(self, *args, reasons=(), with_photos=True, **kwargs):
        kwargs.setdefault("auto_id", "return-%s")
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = list(reasons)
        if not with_photos:
            del self.fields["photos"]

    clean_token = ProblemReportForm.clean_token
    clean_photos = ProblemReportForm.clean_photos

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.quantities():
            raise ValidationError(_("Choose at least one item and how many to return."))
        return cleaned


class ApproveReturnForm(_ReturnQuantities):
    """Sales' approval: what happens next, how many units of each line (at most what
    was asked), and a note for the customer."""

    quantity_prefix = "approve"
    outcome = forms.ChoiceField(
        label=_("What happens next"),
        choices=[("", "—"), *ReturnOutcome.choices],
        error_messages={"required": _("Choose what happens next.")},
    )
    answer = forms.CharField(
        label=_("Note to the customer (optional)"),
        required=False,
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Emailed with the approval and the RMA number, and shown on the status page."),
    )
    pickup = forms.BooleanField(
        label=_("A carrier collects the parcel (Logistics books it)"), required=False
    )
    pickup_date = forms.DateField(
        label=_("Pickup date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date.")},
    )
    pickup_window = forms.ChoiceField(
        label=_("Pickup window"), choices=DeliveryWindow.choices, required=False
    )

    refund = forms.DecimalField(
        label=_("Refund, when the customer keeps the goods"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        error_messages={
            "invalid": _("Enter an amount, for example 25.50."),
            "min_value": _("Enter more than 0."),
            "max_digits": _("Enter an amount, for example 25.50."),
            "max_decimal_places": _("Enter at most 2 decimals."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == ReturnOutcome.PARTIAL_REFUND and not cleaned.get("refund"):
            self.add_error(
                "refund", _("Enter the amount refunded while the customer keeps the goods.")
            )
        if cleaned.get("pickup") and not cleaned.get("pickup_date"):
            self.add_error("pickup_date", _("Enter the day the carrier collects the parcel."))
        return cleaned

    def pickup_choice(self):
        data = self.cleaned_data
        if not data.get("pickup"):
            return None
        return data["pickup_date"], data.get("pickup_window") or DeliveryWindow.ANY


class RefuseReturnForm(forms.Form):
    answer = forms.CharField(
        label=_("Why not? The customer reads this"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write the reason the customer will read.")},
    )


def return_request_form(order, data=None, files=None, *, with_photos=True, now=None):
    """The request form for ``order``: its lines with what may still be returned, and
    the reasons whose window is open now."""
    now = now or timezone.now()
    open_windows = [w for w in returns_service.windows(order) if w.is_open(now)]
    reasons = [
        (
            w.reason.code,
            gettext("%(reason)s (until %(date)s)")
            % {
                "reason": w.reason.name,
                "date": timezone.localtime(w.closes_at).strftime("%Y-%m-%d"),
            },
        )
        for w in open_windows
    ]
    maximum = returns_service.returnable(order)
    lines = [line for line in order.lines.all() if maximum.get(line.pk)]
    initial = {"token": new_form_token()}
    return ReturnRequestForm(
        data,
        files,
        lines=lines,
        maximum=maximum,
        reasons=reasons,
        with_photos=with_photos,
        initial=initial,
    )
