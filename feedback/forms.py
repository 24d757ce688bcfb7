import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import ProblemKind
from .photos import MAX_PHOTOS, check_photo
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
