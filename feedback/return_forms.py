"""Forms for the goods of an approved return: the tracking number of the parcel back,
the warehouse's count at receipt, the inspection of each unit, and Sales' completion."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .forms import _ReturnQuantities
from .return_goods import NOTE_MAX_LENGTH, Counted

_NUMBER_ERRORS = {
    "invalid": _("Enter how many units, as a whole number."),
    "max_value": _("At most %(limit_value)s."),
    "min_value": _("Enter 0 or more."),
}


def _note_field(label, *, required=False):
    return forms.CharField(
        label=label,
        required=required,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what was done for the customer.")},
    )


class SendBackForm(forms.Form):
    """The customer's parcel back: its tracking number (and carrier)."""

    carrier = forms.CharField(label=_("Carrier (optional)"), max_length=60, required=False)
    tracking = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter the parcel's tracking number.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "send-back-%s")
        super().__init__(*args, **kwargs)


class ReceiveReturnForm(_ReturnQuantities):
    """What arrived, per line of the return (the approved quantity is filled in)."""

    quantity_prefix = "received"
    note = _note_field(_("What else the parcel held, or its state (optional)"))

    def __init__(self, *args, request=None, **kwargs):
        lines = [rl.line for rl in request.lines.all()]
        maximum = {rl.line_id: rl.line.shipped_quantity for rl in request.lines.all()}
        initial = {f"received-{rl.line_id}": rl.approved_quantity for rl in request.lines.all()}
        kwargs.setdefault("auto_id", "receive-%s")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, lines=lines, maximum=maximum, **kwargs)

    def received(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data.get(f"received-{line.pk}") or 0 for line in self.lines}


DISPOSITIONS = (
    ("restock", _("Back to stock")),
    ("write_off", _("Written off")),
    ("repair", _("Sent to repair")),
)


class InspectReturnForm(forms.Form):
    """For each line, how many of the received units go back to stock, are written
    off or go to repair; together, every received unit."""

    note = _note_field(_("Inspection note (optional)"))

    def __init__(self, *args, request=None, **kwargs):
        kwargs.setdefault("auto_id", "inspect-%s")
        super().__init__(*args, **kwargs)
        self.lines = [rl for rl in request.lines.all() if rl.received_quantity]
        for rl in self.lines:
            for key, label in DISPOSITIONS:
                self.fields[f"{key}-{rl.line_id}"] = forms.IntegerField(
                    label=label,
                    min_value=0,
                    max_value=rl.received_quantity,
                    initial=rl.received_quantity if key == "restock" else 0,
                    required=False,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
                    error_messages=_NUMBER_ERRORS,
                )

    def rows(self):
        return [
            (rl, [self[f"{key}-{rl.line_id}"] for key, _label in DISPOSITIONS]) for rl in self.lines
        ]

    def clean(self):
        cleaned = super().clean()
        for rl in self.lines:
            counts = [cleaned.get(f"{key}-{rl.line_id}") or 0 for key, _label in DISPOSITIONS]
            if not self.errors and sum(counts) != rl.received_quantity:
                raise ValidationError(
                    _(
                        "%(sku)s: say what becomes of each of the %(n)d units received, "
                        "no more and no fewer."
                    ),
                    params={"sku": rl.line.sku, "n": rl.received_quantity},
                )
        return cleaned

    def counted(self) -> dict[int, Counted]:
        return {
            rl.line_id: Counted(
                *(self.cleaned_data.get(f"{key}-{rl.line_id}") or 0 for key, _label in DISPOSITIONS)
            )
            for rl in self.lines
        }


class SettleReturnForm(forms.Form):
    note = _note_field(_("What was done for the customer"), required=True)
