"""Entering an order: delivery details, the staff order form and its lines."""

import functools

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..models import Channel, DeliveryWindow, Product
from ..services import Attachment as services_attachment
from .staff import TOKEN_ERRORS


class DeliveryForm(forms.Form):
    """Where and when to deliver; shared by the staff order form and the change form."""

    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=120,
        required=False,
        help_text=_("Leave empty if the customer receives the goods."),
    )
    recipient_phone = forms.CharField(label=_("Recipient phone"), max_length=32, required=False)
    province = forms.CharField(label=_("Province"), max_length=60)
    city = forms.CharField(label=_("City"), max_length=60)
    district = forms.CharField(label=_("District"), max_length=60, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=12, required=False)
    requested_date = forms.DateField(
        label=_("Requested delivery date"),
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
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def _phone(self, name):
        from ..phones import normalize_phone

        value = self.cleaned_data.get(name)
        return normalize_phone(value, "CN") if value else value

    def clean_recipient_phone(self):
        return self._phone("recipient_phone")

    def clean_requested_date(self):
        value = self.cleaned_data.get("requested_date")
        # A date already on the order may stay as it is, even once it has passed.
        if value and value != self.initial.get("requested_date"):
            validators.check_delivery_date(value)
        return value

    def as_order_fields(self, default_name="", default_phone="") -> dict:
        """The cleaned values under the Order's field names."""
        data = self.cleaned_data
        return {
            "delivery_recipient": data["recipient"] or default_name,
            "delivery_phone": data["recipient_phone"] or default_phone,
            "delivery_province": data["province"],
            "delivery_city": data["city"],
            "delivery_district": data["district"],
            "delivery_street": data["street"],
            "delivery_postal_code": data["postal_code"],
            "requested_date": data["requested_date"],
            "requested_window": data["requested_window"],
            "special_instructions": data["special_instructions"],
        }

    @classmethod
    def initial_for(cls, order) -> dict:
        return {
            "recipient": order.delivery_recipient,
            "recipient_phone": order.delivery_phone,
            "province": order.delivery_province,
            "city": order.delivery_city,
            "district": order.delivery_district,
            "street": order.delivery_street,
            "postal_code": order.delivery_postal_code,
            "requested_date": order.requested_date,
            "requested_window": order.requested_window,
            "special_instructions": order.special_instructions,
        }


class StaffOrderForm(DeliveryForm):
    """An order taken by phone or email, entered by Sales."""

    token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput, error_messages=TOKEN_ERRORS
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.EMAIL, Channel.EMAIL.label)],
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=120)
    customer_phone = forms.CharField(label=_("Customer phone"), max_length=32)
    customer_email = forms.EmailField(label=_("Customer email"), required=False)
    original_text = forms.CharField(
        label=_("Original email (pasted)"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For email orders: paste the customer's email, or upload it below."),
    )
    original_file = forms.FileField(
        label=_("Original email file (.eml or .pdf, at most 5 MB)"), required=False
    )
    field_order = ["token", "channel", "customer_name", "customer_phone", "customer_email"]

    MAX_UPLOAD = 5 * 1024 * 1024

    def clean_customer_phone(self):
        return self._phone("customer_phone")

    def clean_original_file(self):
        upload = self.cleaned_data.get("original_file")
        if not upload:
            return upload
        name = upload.name.lower()
        if upload.size > self.MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        head = upload.read(2048)
        upload.seek(0)
        if name.endswith(".pdf"):
            if not head.startswith(b"%PDF-"):
                raise forms.ValidationError(_("This file is not a PDF."))
            upload.detected_type = "application/pdf"
        elif name.endswith(".eml"):
            if b":" not in head.split(b"\n", 1)[0] or b"\x00" in head:
                raise forms.ValidationError(_("This file is not an email (.eml)."))
            upload.detected_type = "message/rfc822"
        else:
            raise forms.ValidationError(_("Upload the email as an .eml or .pdf file."))
        return upload

    def clean(self):
        data = super().clean()
        has_evidence = data.get("original_text", "").strip() or data.get("original_file")
        if data.get("channel") == Channel.EMAIL and not has_evidence and not self.errors:
            raise forms.ValidationError(
                _("An email order keeps the customer's original email: paste it or upload it.")
            )
        return data

    def attachments(self) -> list:
        data = self.cleaned_data
        found = []
        if data.get("original_text", "").strip():
            found.append(
                services_attachment(_("Original email (pasted)"), text=data["original_text"])
            )
        if data.get("original_file"):
            upload = data["original_file"]
            found.append(services_attachment(upload.name[:200], upload=upload))
        return found


class PricedSelect(forms.Select):
    """A product select whose options carry their unit price, for the live totals."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-price"] = str(instance.unit_price)
        return option


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        widget=PricedSelect(attrs={"data-line-product": ""}),
        empty_label=_("Choose a product"),
        required=False,
        error_messages={"invalid_choice": _("This product is not available.")},
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=100_000,
        required=False,
        widget=forms.NumberInput(attrs={"data-line-quantity": "", "min": 1}),
        error_messages={
            "invalid": _("Enter a whole number."),
            "min_value": _("The quantity must be at least 1."),
            "max_value": _("The quantity can be at most 100,000."),
        },
    )

    def clean(self):
        data = super().clean()
        if data.get("product") and not data.get("quantity") and "quantity" not in self.errors:
            self.add_error("quantity", _("Enter a quantity for this product."))
        if data.get("quantity") and not data.get("product") and "product" not in self.errors:
            self.add_error("product", _("Choose a product for this quantity."))
        return data


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(form.cleaned_data.get("product") for form in self.forms):
            raise forms.ValidationError(_("An order needs at least one line."))


# absolute_max: a post claiming more lines is refused without building them. Django's
# default (max_num + 1,000) made a forged lines-TOTAL_FORMS cost seconds per request,
# each of the 1,030 line forms rendering its own product list.
LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=4, max_num=30, validate_max=True, absolute_max=30
)


def _country_choices():
    return _country_choices_in(get_language())


@functools.lru_cache(maxsize=8)
def _country_choices_in(language):
    from django_countries import countries

    # Sorted and translated once per language, not on every page view.
    return [(code, str(name)) for code, name in countries]
