"""The customer's forms: the online order, finding an order again, a delivery change."""

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..models import DeliveryWindow, Product
from .entry import _country_choices
from .staff import TOKEN_ERRORS


class OnlineOrderForm(forms.Form):
    """The public order form: goods, contact, delivery address and wishes.

    Quantities are one field per active product (``qty_<id>``). ``token`` is the
    idempotency key handed out with the form; ``website`` is a honeypot that people
    never see and bots fill in.
    """

    token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput, error_messages=TOKEN_ERRORS
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    name = forms.CharField(label=_("Your name"), max_length=120)
    country = forms.ChoiceField(label=_("Country or region"), initial="CN")
    phone = forms.CharField(label=_("Mobile phone"), max_length=32)
    email = forms.EmailField(
        label=_("Email"), help_text=_("We send the order confirmation and status link here.")
    )
    province = forms.CharField(label=_("Province / state"), max_length=60)
    city = forms.CharField(label=_("City"), max_length=60)
    district = forms.CharField(label=_("District"), max_length=60, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=12, required=False)
    requested_date = forms.DateField(
        label=_("Preferred delivery date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    requested_window = forms.ChoiceField(
        label=_("Delivery window"), choices=DeliveryWindow.choices, initial=DeliveryWindow.ANY
    )
    special_instructions = forms.CharField(
        label=_("Special instructions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _country_choices()
        self.products = list(
            products if products is not None else Product.objects.filter(active=True)
        )
        for product in self.products:
            self.fields[f"qty_{product.pk}"] = forms.IntegerField(
                label=product.name,
                required=False,
                min_value=0,
                max_value=100_000,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
                error_messages={
                    "invalid": _("Enter a whole number."),
                    "min_value": _("The quantity cannot be negative."),
                    "max_value": _("The quantity can be at most 100,000."),
                },
            )
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def quantity_fields(self):
        return [(p, self[f"qty_{p.pk}"]) for p in self.products]

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("This form could not be accepted."))
        return ""

    def clean_requested_date(self):
        value = self.cleaned_data.get("requested_date")
        if value:
            validators.check_delivery_date(value)
        return value

    def clean(self):
        from ..phones import normalize_phone

        data = super().clean()
        if data.get("phone") and data.get("country"):
            try:
                data["phone"] = normalize_phone(data["phone"], data["country"])
            except forms.ValidationError as error:
                self.add_error("phone", error)
        data["lines"] = [(p, data[f"qty_{p.pk}"]) for p in self.products if data.get(f"qty_{p.pk}")]
        offered = {f"qty_{p.pk}" for p in self.products}
        for key, value in self.data.items():
            if key.startswith("qty_") and key not in offered and value.strip() not in ("", "0"):
                self.add_error(None, _("A product you chose is no longer available."))
                break
        quantity_errors = any(f"qty_{p.pk}" in self.errors for p in self.products)
        if not data["lines"] and not quantity_errors:
            raise forms.ValidationError(_("Choose at least one product and its quantity."))
        return data


# ---------------------------------------------------------------------------
# The customer's view: finding an order again, asking for a delivery change


class LookupForm(forms.Form):
    """A customer who lost the status link finds the order by its number plus the
    email or phone given with it."""

    number = forms.CharField(
        label=_("Order number"),
        max_length=30,
        help_text=_("It is in your order email, e.g. 20261127-0042."),
        error_messages={"required": _("Enter your order number.")},
    )
    contact = forms.CharField(
        label=_("Email or mobile phone"),
        max_length=200,
        help_text=_("The email address or phone number you gave with the order."),
        error_messages={"required": _("Enter your email address or phone number.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["contact"].widget.attrs.update(
            {"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"}
        )

    def clean_number(self):
        # Full-width digits and spaces typed or pasted around the dash are forgiven.
        number = "".join(unicodedata.normalize("NFKC", self.cleaned_data["number"]).split())
        if not re.fullmatch(r"\d{8}-\d{4,6}", number, flags=re.ASCII):
            raise forms.ValidationError(_("An order number looks like 20261127-0042."))
        return number


class DeliveryChangeForm(forms.Form):
    """The customer asks, from the status page, for another delivery window, more
    instructions or another address. All of it waits for Sales' answer."""

    requested_window = forms.ChoiceField(
        label=_("Delivery window"),
        required=False,
        choices=[("", _("Keep as it is")), *DeliveryWindow.choices],
    )
    instructions = forms.CharField(
        label=_("Add delivery instructions"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: leave it with the building's reception."),
    )
    province = forms.CharField(label=_("Province"), required=False, max_length=60)
    city = forms.CharField(label=_("City"), required=False, max_length=60)
    district = forms.CharField(label=_("District"), required=False, max_length=60)
    street = forms.CharField(label=_("Street address"), required=False, max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=12)
    recipient = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to keep the same recipient."),
    )
    phone = forms.CharField(
        label=_("Recipient phone"),
        required=False,
        max_length=32,
        help_text=_("Leave empty to keep the same phone number."),
    )

    ADDRESS_FIELDS = ("province", "city", "district", "street", "postal_code", "recipient", "phone")

    def __init__(self, *args, country="CN", window="", **kwargs):
        super().__init__(*args, **kwargs)
        self.country = country or "CN"
        if window in DeliveryWindow.values:
            # The customer sees what they keep without looking elsewhere on the page.
            keep = _("Keep: %(window)s") % {"window": DeliveryWindow(window).label}
            self.fields["requested_window"].choices = [("", keep), *DeliveryWindow.choices]
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["recipient"].widget.attrs["autocomplete"] = "name"
        self.fields["province"].widget.attrs["autocomplete"] = "address-level1"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["district"].widget.attrs["autocomplete"] = "address-level3"
        self.fields["street"].widget.attrs["autocomplete"] = "street-address"
        self.fields["postal_code"].widget.attrs["autocomplete"] = "postal-code"

    def address_fields(self):
        return [self[name] for name in self.ADDRESS_FIELDS]

    def clean_phone(self):
        from ..phones import normalize_phone

        value = self.cleaned_data.get("phone", "").strip()
        return normalize_phone(value, self.country) if value else ""

    def clean(self):
        data = super().clean()
        given = [name for name in self.ADDRESS_FIELDS if name not in self.errors]
        gives_address = any((data.get(name) or "").strip() for name in given)
        if gives_address:
            for name in ("province", "city", "street"):
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, _("A new address needs this."))
        asks = data.get("requested_window") or (data.get("instructions") or "").strip()
        if not (asks or gives_address) and not self.errors:
            raise forms.ValidationError(
                _("Choose another delivery window, add instructions or give a new address.")
            )
        return data

    def new_address(self):
        """The new address as the service takes it, or None when none was given."""
        from ..services import DeliveryDetails

        data = self.cleaned_data
        if not data.get("street"):
            return None
        return DeliveryDetails(
            recipient=data["recipient"].strip(),
            phone=data["phone"],
            province=data["province"].strip(),
            city=data["city"].strip(),
            district=data["district"].strip(),
            street=data["street"].strip(),
            postal_code=data["postal_code"].strip(),
            country=self.country,
        )
