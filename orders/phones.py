"""Phone numbers: validated for the customer's country and stored in E.164 (+8613800138000)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return ``raw`` as E.164, or raise ValidationError with a translated message."""
    try:
        number = phonenumbers.parse((raw or "").strip(), (region or "CN").upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number for the selected country, e.g. 138 0013 8000."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
