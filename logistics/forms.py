from django import forms
from django.utils.translation import gettext_lazy as _

from orders.validators import check_tracking_time

from .models import EventType, Resolution


class ShipForm(forms.Form):
    """Carrier, packages and tracking number for a shipment; the choices are the
    services that can carry it (best first) and the order's unshipped packages."""

    service = forms.TypedChoiceField(label=_("Carrier and service"), coerce=int)
    packages = forms.TypedMultipleChoiceField(
        label=_("Packages in this shipment"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to generate one in the carrier's format."),
    )
    reason = forms.CharField(
        label=_("Why another carrier than the proposed one"),
        max_length=300,
        required=False,
    )

    def __init__(self, *args, options=(), packages=(), lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [(o.service.pk, str(o.service)) for o in options]
        if options:
            self.fields["service"].initial = options[0].service.pk
        self.fields["packages"].choices = [
            (p.pk, _("Package %(n)d · %(kg)s kg") % {"n": i, "kg": p.weight_kg})
            for i, p in enumerate(packages, start=1)
        ]
        self.fields["packages"].initial = [p.pk for p in packages]
        self.lines = list(lines)
        for line, left in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.sku} · {line.name}", min_value=0, max_value=left, initial=left
            )

    def line_quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line, _left in self.lines}


class EventForm(forms.Form):
    """A tracking event entered by Logistics; with ``shipment``, its time must lie
    between the hand-over to the carrier and now (see orders.validators)."""

    type = forms.ChoiceField(label=_("What happened"), choices=EventType.choices)
    happened_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )
    location = forms.CharField(label=_("Where"), max_length=120, required=False)
    description = forms.CharField(label=_("Details"), max_length=300, required=False)

    def __init__(self, *args, shipment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipment = shipment

    def clean_happened_at(self):
        value = self.cleaned_data.get("happened_at")
        if value is not None:
            shipped_at = self.shipment.shipped_at if self.shipment is not None else None
            check_tracking_time(value, shipped_at=shipped_at)
        return value


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=Resolution.choices)
    note = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
