"""Finance's forms. Each carries a one-time token (the submission key) so that a form
sent twice (double click, refresh, retry) writes once."""

import re
import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.validators import EARLIEST_DATE, check_search_date

from .models import ChargeKind, DocumentKind, InvoiceType, PaymentMethod, RefundFor
from .services import MAX_AMOUNT, NOTE_MAX, REASON_MAX

TOKEN = re.compile(r"^[0-9a-f]{32}$")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What a document's first bytes say it is; its name's extension must agree.
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


def new_form_token() -> str:
    return uuid.uuid4().hex


class TokenForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not TOKEN.match(token):
            raise ValidationError(_("The form was incomplete. Please reload the page."))
        return token


def _amount_field():
    return forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        max_digits=14,
        decimal_places=2,
        error_messages={"required": _("Enter an amount.")},
    )


def _date_field(label):
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Enter the date.")},
    )


def _not_future(day):
    """A day something happened: not in the future, nor before the system's first day
    (an earlier one is a typing mistake, and would not be read back as typed)."""
    if day and day > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."))
    if day and day < EARLIEST_DATE:
        raise ValidationError(_("This date is too far in the past. Enter when it happened."))
    return day


def checked_document(upload):
    """A PDF, PNG or JPEG of at most 10 MB, by its content, not only its name."""
    if upload is None:
        return upload
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in SIGNATURES:
        raise ValidationError(_("Attach a PDF, PNG or JPEG file."))
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("A file can be at most 10 MB."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in SIGNATURES[extension]):
        raise ValidationError(_("This file is not the PDF, PNG or JPEG its name says."))
    return upload


class PaymentForm(TokenForm):
    method = forms.ModelChoiceField(
        label=_("Method"),
        queryset=PaymentMethod.objects.filter(active=True),
        empty_label=None,
        error_messages={"required": _("Choose how the customer paid.")},
    )
    amount = _amount_field()
    happened_on = _date_field(_("Date received"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The bank's or the payment service's transaction number."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "payment-%s")
        super().__init__(*args, **kwargs)

    def clean_happened_on(self):
        return _not_future(self.cleaned_data.get("happened_on"))


class RefundForm(TokenForm):
    refund_for = forms.ChoiceField(label=_("Refund for"), choices=RefundFor.choices)
    problem_case = forms.IntegerField(
        label=_("Problem case number"),
        required=False,
        min_value=1,
        help_text=_("For a refund for a problem case: its number."),
    )
    amount = _amount_field()
    happened_on = _date_field(_("Date paid"))
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        error_messages={"required": _("Please give a reason.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "refund-%s")
        super().__init__(*args, **kwargs)

    def clean_happened_on(self):
        return _not_future(self.cleaned_data.get("happened_on"))

    def clean(self):
        data = super().clean()
        if data.get("refund_for") == RefundFor.PROBLEM_CASE and not data.get("problem_case"):
            self.add_error("problem_case", _("Enter the problem case the refund is for."))
        return data


class ChargeForm(TokenForm):
    charge_kind = forms.ChoiceField(
        label=_("Charge"),
        choices=[
            (ChargeKind.FREIGHT, ChargeKind.FREIGHT.label),
            (ChargeKind.DISCOUNT, ChargeKind.DISCOUNT.label),
            (ChargeKind.ADJUSTMENT, ChargeKind.ADJUSTMENT.label),
        ],
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_value=MAX_AMOUNT,
        min_value=-MAX_AMOUNT,
        max_digits=14,
        decimal_places=2,
        help_text=_("A discount lowers the balance; an adjustment may be negative."),
        error_messages={"required": _("Enter an amount.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        required=False,
        help_text=_("Needed for a discount or an adjustment."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "charge-%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        kind, amount = data.get("charge_kind"), data.get("amount")
        if amount is not None and amount == 0:
            self.add_error("amount", _("Enter an amount other than zero."))
        elif amount is not None and amount < 0 and kind != ChargeKind.ADJUSTMENT:
            self.add_error("amount", _("Only an adjustment may be negative."))
        if kind in (ChargeKind.DISCOUNT, ChargeKind.ADJUSTMENT) and not data.get("reason"):
            self.add_error("reason", _("Please give a reason."))
        return data


class ReasonForm(TokenForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please give a reason.")},
    )


class InvoiceForm(TokenForm):
    type = forms.ModelChoiceField(
        label=_("Invoice type"),
        queryset=InvoiceType.objects.filter(active=True),
        empty_label=None,
        error_messages={"required": _("Choose the invoice type.")},
    )
    number = forms.CharField(
        label=_("Invoice number"),
        max_length=40,
        error_messages={"required": _("Enter the invoice number.")},
    )
    amount = _amount_field()
    issued_on = _date_field(_("Issue date"))
    document = forms.FileField(
        label=_("PDF or scan"),
        help_text=_("PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        error_messages={"required": _("Attach the invoice's PDF or scan.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "invoice-%s")
        super().__init__(*args, **kwargs)

    def clean_issued_on(self):
        return _not_future(self.cleaned_data.get("issued_on"))

    def clean_document(self):
        return checked_document(self.cleaned_data.get("document"))


class DocumentForm(TokenForm):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        error_messages={"required": _("Choose the file to add.")},
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "document-%s")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        return checked_document(self.cleaned_data.get("file"))


class SubmitForm(TokenForm):
    note = forms.CharField(
        label=_("Note to Finance"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "submit-%s")
        super().__init__(*args, **kwargs)


class OverrideForm(ReasonForm):
    key = forms.CharField(widget=forms.HiddenInput, max_length=40)


class ExportForm(forms.Form):
    start = _date_field(_("From"))
    end = _date_field(_("To"))

    # Within the system's days: the day after the end must exist (9999-12-31 has none).
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
            elif (end - start).days > 366:
                self.add_error("end", _("Export at most one year at a time."))
        return data
