from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .models import Channel, DeliveryWindow, Product, Status

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 \-]{5,19}$",
    _("Enter a phone number of 6 to 20 digits, optionally starting with +."),
)


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    date_from = forms.DateField(
        label=_("Placed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Placed to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
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


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("A comment cannot be empty.")},
    )


class StaffOrderForm(forms.Form):
    """An order taken by phone or email, entered by Sales."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.EMAIL, Channel.EMAIL.label)],
    )
    customer_name = forms.CharField(label=_("Customer name"), max_length=120)
    customer_phone = forms.CharField(
        label=_("Customer phone"), max_length=32, validators=[phone_validator]
    )
    customer_email = forms.EmailField(label=_("Customer email"), required=False)
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=120,
        required=False,
        help_text=_("Leave empty if the customer receives the goods."),
    )
    recipient_phone = forms.CharField(
        label=_("Recipient phone"), max_length=32, required=False, validators=[phone_validator]
    )
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


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        required=False,
        error_messages={"invalid_choice": _("This product is not available.")},
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=100_000,
        required=False,
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


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=4, max_num=30, validate_max=True
)
