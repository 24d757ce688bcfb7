"""Signed, expiring links for customers (the confirmation link in the order email)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_SALT = "o2d.orders.customer-confirm"


def confirm_token(order) -> str:
    # The public secret is part of the signed value: a link stays bound to its order.
    return signing.dumps({"o": order.pk, "s": order.public_token[:12]}, salt=CONFIRM_SALT)


def confirm_url(order) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("customer_confirm", args=[confirm_token(order)])


def read_confirm_token(token: str) -> tuple[int, str]:
    """Return (order id, secret prefix); raises signing.SignatureExpired or BadSignature."""
    max_age = settings.O2D_CONFIRM_LINK_DAYS * 86400
    data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    if not isinstance(data, dict) or not isinstance(data.get("o"), int):
        raise signing.BadSignature("malformed")
    return data["o"], str(data.get("s", ""))
