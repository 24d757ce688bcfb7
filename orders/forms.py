import functools
import re
import unicodedata

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import validators
from .models import Channel, DeliveryWindow, Product, Status, VerificationMethod
from .services import Attachment as services_attachment

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
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
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
        from .phones import normalize_phone

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
        from .phones import normalize_phone

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
        from .phones import normalize_phone

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
        from .services import DeliveryDetails

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
