from django import forms
from django.utils.translation import gettext_lazy as _

from orders.forms import SearchField

from . import selectors
from .models import DiscrepancyKind, Package


class ScanForm(forms.Form):
    sku = forms.CharField(
        label=_("Scan or type the SKU"),
        max_length=60,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "characters"}
        ),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000, initial=1)
    line = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DiscrepancyForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Problem"), choices=DiscrepancyKind.choices)
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=100_000, initial=1)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PackageForm(forms.ModelForm):
    class Meta:
        model = Package
        fields = ["weight_kg", "length_cm", "width_cm", "height_cm"]
        widgets = {"weight_kg": forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"})}


class ReviewForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[("pass", _("Everything matches the order")), ("fail", _("Something is wrong"))],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("What is wrong (sent back to the picker)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        if data.get("result") == "fail" and not (data.get("notes") or "").strip():
            self.add_error("notes", _("Say what is wrong: the picker needs the reason."))
        return data


class StockSearchForm(forms.Form):
    q = SearchField(label=_("SKU, product or bin"), max_length=60)


class BatchPickForm(forms.Form):
    """Which orders go on a batch pick list: numbers, or every acknowledged order."""

    # Room for the numbers of one wave (up to 15 characters each, separated).
    orders = forms.CharField(
        label=_("Order numbers"), required=False, max_length=selectors.PICK_WAVE * 16
    )

    def numbers(self) -> list[str]:
        raw = self.cleaned_data.get("orders") or ""
        return [part for part in raw.replace(",", " ").split() if part][: selectors.PICK_WAVE]


class StockChangeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Change"),
        choices=[
            ("receive", _("Goods received")),
            ("add", _("Adjust: add")),
            ("remove", _("Adjust: remove")),
        ],
    )
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=1_000_000)
    reason = forms.CharField(label=_("Reason or delivery note"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("kind") in ("add", "remove") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason for the adjustment."))
        return data
