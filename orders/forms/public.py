"""The customer's forms: the online order, finding an order again, a delivery change."""

import functools
import html
import re
import unicodedata

from django import forms
from django.forms.utils import ErrorList
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .. import validators
from ..models import DeliveryWindow
from ..selectors import products_on_sale
from .entry import _country_choices_in
from .staff import TOKEN_ERRORS

# ---------------------------------------------------------------------------
# Rendering without templates
#
# The public pages are the busiest pages of the site, and Django renders every widget,
# every option of a <select> and every (even empty) error list through a template of
# its own: the order page took about 570 template renders, most of them for the 249
# countries. The widgets and the error list below write the same HTML as Django's
# templates (django/forms/widgets/*.html, django/forms/errors/list/ul.html) in Python,
# from the same context (``get_context``), so attributes, values, ``required``,
# ``aria-invalid`` and ``aria-describedby`` stay Django's own.


def escape(value) -> str:
    """Django's ``conditional_escape`` without its lazy-string wrappers: already safe
    HTML as it is, anything else escaped (``html.escape``, as Django's ``escape``)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs_html(attrs) -> str:
    """django/forms/widgets/attrs.html: False leaves the attribute out, True writes
    its bare name."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {escape(name)}")
        else:
            parts.append(f' {escape(name)}="{escape(value)}"')
    return "".join(parts)


class _PythonRendered:
    """Mixin for a widget: ``render`` writes the HTML without the template engine."""

    def render(self, name, value, attrs=None, renderer=None):
        return mark_safe(self.html(self.get_context(name, value, attrs)["widget"]))  # noqa: S308


class _Input(_PythonRendered):
    def html(self, widget):
        value = widget["value"]
        value = "" if value is None else f' value="{escape(value)}"'
        return (
            f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"'
            f"{value}{_attrs_html(widget['attrs'])}>"
        )


class TextInput(_Input, forms.TextInput):
    pass


class EmailInput(_Input, forms.EmailInput):
    pass


class NumberInput(_Input, forms.NumberInput):
    pass


class HiddenInput(_Input, forms.HiddenInput):
    pass


class DateInput(_Input, forms.DateInput):
    pass


class Textarea(_PythonRendered, forms.Textarea):
    def html(self, widget):
        value = escape(widget["value"]) if widget["value"] else ""
        return (
            f'<textarea name="{escape(widget["name"])}"{_attrs_html(widget["attrs"])}>\n'
            f"{value}</textarea>"
        )


@functools.lru_cache(maxsize=32)
def _options_html(choices: tuple) -> tuple:
    """The ``<option>`` of each choice, as (value, HTML before the value's
    ``selected``, HTML after it); computed once per list of choices (the country
    list is one list per language, see ``_country_choices_in``)."""
    return tuple(
        (
            str(value),
            f'\n  <option value="{escape(value)}"',
            f">{escape(label)}</option>",
        )
        for value, label in choices
    )


class Select(_PythonRendered, forms.Select):
    """A single-choice <select> with flat choices (no option groups)."""

    def get_context(self, name, value, attrs):
        # Django's ChoiceWidget.get_context builds a dict per option (``optgroups``);
        # ``html`` writes the options from the cached HTML instead.
        return forms.Widget.get_context(self, name, value, attrs)

    def html(self, widget):
        selected = set(widget["value"])
        choices = tuple((value, str(label)) for value, label in self.choices)
        options = "".join(
            f"{before} selected{after}" if value in selected else before + after
            for value, before, after in _options_html(choices)
        )
        return (
            f'<select name="{escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
            f"{options}\n</select>"
        )


class CountrySelect(Select):
    """The country <select>: its 249 options are escaped once per language."""

    def use_required_attribute(self, initial):
        # Django writes ``required`` on a <select> only when its first option is
        # empty (a placeholder); no country code is. Saves going through the list.
        return False

    def html(self, widget):
        selected = set(widget["value"])
        options = "".join(
            f"{before} selected{after}" if value in selected else before + after
            for value, before, after in _country_options(get_language())
        )
        return (
            f'<select name="{escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
            f"{options}\n</select>"
        )


@functools.lru_cache(maxsize=8)
def _country_options(language):
    return _options_html(tuple(_country_choices_in(language)))


def _current_country_choices():
    return _country_choices_in(get_language())


class CountryField(forms.ChoiceField):
    """The country or region, from django-countries, translated and sorted once per
    language (``_country_choices_in``). The form gets the choices when it needs them,
    instead of copying and checking 249 of them in every form it builds."""

    widget = CountrySelect

    def __init__(self, **kwargs):
        super().__init__(choices=_current_country_choices, **kwargs)

    def valid_value(self, value):
        return str(value) in _country_codes()


@functools.lru_cache(maxsize=1)
def _country_codes():
    from django_countries import countries

    # Codes only: _country_choices_in(language) must be called in its own language.
    return frozenset(countries.countries)


class PublicErrorList(ErrorList):
    """django/forms/errors/list/ul.html, written in Python: an empty list is ""."""

    def render(self, template_name=None, context=None, renderer=None):
        if template_name or context:
            return super().render(template_name, context, renderer)
        if not self:
            return mark_safe("")
        field_id = f' id="{escape(self.field_id)}_error"' if self.field_id else ""
        items = "".join(f"<li>{escape(error)}</li>" for error in self)
        return mark_safe(f'<ul class="{escape(self.error_class)}"{field_id}>{items}</ul>')  # noqa: S308

    __str__ = render
    __html__ = render


class PublicBoundField(forms.BoundField):
    def as_field_group(self):
        """The label, the widget, the help text and the errors: the HTML of
        templates/includes/field.html, written in Python."""
        errors = self.errors
        required = ' <span aria-hidden="true">*</span>' if self.field.required else ""
        help_text = (
            f'<span class="help" id="{escape(self.auto_id)}_helptext">'
            f"{escape(self.help_text)}</span>"
            if self.help_text
            else ""
        )
        return mark_safe(  # noqa: S308 - every part is escaped or rendered HTML
            f'<div class="field{" has-error" if errors else ""}">\n'
            f'  <label for="{escape(self.id_for_label)}">{escape(self.label)}'
            f"{required}</label>\n"
            f"  {self.as_widget()}\n"
            f"  {help_text}\n"
            f"  {escape(errors)}\n"
            "</div>\n"
        )


class PublicForm(forms.Form):
    """A form of the public pages, rendered without the template engine: its widgets
    are the ones above, ``{{ form.field.as_field_group }}`` writes what
    includes/field.html writes, and its error lists are written in Python."""

    bound_field_class = PublicBoundField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("error_class", PublicErrorList)
        super().__init__(*args, **kwargs)


class QuantityField(forms.IntegerField):
    """How many of one product. Most are left empty: an empty one is settled at once."""

    def clean(self, value):
        if value == "" or value is None:
            return None
        return super().clean(value)


_QUANTITY_FIELDS: dict[tuple, dict] = {}
_QUANTITY_FIELDS_KEPT = 16


def _quantity_fields(products) -> dict:
    """The quantity field of each product, ``qty_<id>``: built once per list of
    products on sale (each process keeps a few lists) and shared by the forms, which
    never change them. A catalogue of 200 products costs a form 200 fields, and
    building them for every form took several milliseconds."""
    key = tuple((p.pk, p.name) for p in products)
    fields = _QUANTITY_FIELDS.get(key)
    if fields is None:
        if len(_QUANTITY_FIELDS) >= _QUANTITY_FIELDS_KEPT:
            _QUANTITY_FIELDS.clear()
        fields = _QUANTITY_FIELDS[key] = {
            f"qty_{product.pk}": QuantityField(
                label=product.name,
                required=False,
                min_value=0,
                max_value=100_000,
                widget=NumberInput(attrs={"inputmode": "numeric", "min": 0}),
                error_messages={
                    "invalid": _("Enter a whole number."),
                    "min_value": _("The quantity cannot be negative."),
                    "max_value": _("The quantity can be at most 100,000."),
                },
            )
            for product in products
        }
    return fields


class OnlineOrderForm(PublicForm):
    """The public order form: goods, contact, delivery address and wishes.

    Quantities are one field per active product (``qty_<id>``). ``token`` is the
    idempotency key handed out with the form; ``website`` is a honeypot that people
    never see and bots fill in.
    """

    token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", widget=HiddenInput, error_messages=TOKEN_ERRORS
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"), widget=TextInput)
    name = forms.CharField(label=_("Your name"), max_length=120, widget=TextInput)
    country = CountryField(label=_("Country or region"), initial="CN")
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, widget=TextInput)
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("We send the order confirmation and status link here."),
        widget=EmailInput,
    )
    province = forms.CharField(label=_("Province / state"), max_length=60, widget=TextInput)
    city = forms.CharField(label=_("City"), max_length=60, widget=TextInput)
    district = forms.CharField(label=_("District"), max_length=60, required=False, widget=TextInput)
    street = forms.CharField(label=_("Street address"), max_length=200, widget=TextInput)
    postal_code = forms.CharField(
        label=_("Postal code"), max_length=12, required=False, widget=TextInput
    )
    requested_date = forms.DateField(
        label=_("Preferred delivery date"),
        required=False,
        widget=DateInput(attrs={"type": "date"}),
    )
    requested_window = forms.ChoiceField(
        label=_("Delivery window"),
        choices=DeliveryWindow.choices,
        initial=DeliveryWindow.ANY,
        widget=Select,
    )
    special_instructions = forms.CharField(
        label=_("Special instructions"),
        required=False,
        max_length=2000,
        widget=Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, products=None, **kwargs):
        """``products``: what is on sale, as ``selectors.products_on_sale()`` rows
        (or products); by default all of it."""
        super().__init__(*args, **kwargs)
        self.products = list(products if products is not None else products_on_sale())
        self.fields.update(_quantity_fields(self.products))
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


class OnlineOrderTokenForm(PublicForm):
    """What the blank order page needs of a form of its own: a new token. Its fields
    are the blank OnlineOrderForm's, rendered once (views.public._blank_form_fields)."""

    token = OnlineOrderForm.declared_fields["token"]


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
