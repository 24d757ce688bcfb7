"""Customers and their addresses, with the channel and delivery-window choices."""

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class DeliveryWindow(models.TextChoices):
    ANY = "any", _("Any time")
    MORNING = "morning", _("Morning (09:00–12:00)")
    AFTERNOON = "afternoon", _("Afternoon (12:00–18:00)")
    EVENING = "evening", _("Evening (18:00–21:00)")


def format_address(province, city, district, street) -> str:
    """One line, as written in China; a municipality's city repeats its province."""
    parts = [province, "" if city == province else city, district, street]
    return " ".join(p for p in parts if p)


# Fixed here (not read from settings) so migrations do not depend on the environment.
LANGUAGE_CHOICES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    language = models.CharField(
        _("language"), max_length=10, choices=LANGUAGE_CHOICES, default="zh-hans"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        # Customers are looked up by email case-insensitively (email__iexact).
        indexes = [models.Index(Upper("email"), name="orders_customer_email_upper")]

    def __str__(self):
        return self.name


class Address(models.Model):
    """A delivery address a customer has used; orders copy it when they are placed."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="addresses", verbose_name=_("customer")
    )
    recipient = models.CharField(_("recipient"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32)
    country = models.CharField(_("country"), max_length=2, default="CN")
    province = models.CharField(_("province"), max_length=60)
    city = models.CharField(_("city"), max_length=60)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self):
        return format_address(self.province, self.city, self.district, self.street)
