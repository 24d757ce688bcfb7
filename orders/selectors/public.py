"""The customer's view of an order: the status page behind its secret link, the public
timeline, the confirmation link and the order lookup."""

import hmac

from django.http import Http404

from ..models import Order, OrderEvent


def order_for_public(number: str, token: str) -> Order:
    """The order behind a public status link, or 404 (also for a wrong secret)."""
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None or not hmac.compare_digest(order.public_token.encode(), token.encode()):
        raise Http404
    return order


def public_timeline(order: Order) -> list[OrderEvent]:
    """Customer-facing events only: no comments, no notes, no staff names."""
    return list(
        order.events.filter(public=True).only(
            "order_id", "created_at", "kind", "code", "to_status", "data"
        )
    )


def masked_first_name(full_name: str) -> str:
    """What the public page says of the customer: a first name, never a full name."""
    name = (full_name or "").strip()
    if not name:
        return ""
    if " " in name:
        return name.split()[0]
    # Chinese names: keep the family name, mask the given name.
    return name[0] + "*" * (len(name) - 1)


def order_from_confirm_link(token: str) -> Order:
    """The order behind a customer's confirmation link; raises signing errors for a
    tampered or expired link, and Http404 when the order does not match it."""
    from ..links import read_confirm_token

    order_id, secret = read_confirm_token(token)
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None or not hmac.compare_digest(order.public_token[:12], secret):
        raise Http404
    return order


# ---------------------------------------------------------------------------
# The customer's view: lookup, tracking, delivery change requests

# Compared against when no order has the number, so both answers cost the same.
_NO_SUCH_CONTACT = "\x00no-such-contact\x00"


def _lookup_contact(raw: str) -> tuple[str, str]:
    """What the customer typed, as (lower-case email, E.164 phone); one of them empty."""
    from django.core.exceptions import ValidationError

    from ..phones import normalize_phone

    raw = (raw or "").strip()
    if "@" in raw:
        return raw.lower(), ""
    try:
        return "", normalize_phone(raw, "CN")
    except ValidationError:
        return "", ""


def order_for_lookup(number: str, contact: str) -> Order | None:
    """The order with ``number`` whose contact email or phone (as typed with the order,
    not an earlier customer's) or delivery phone is ``contact``; else None, whether
    the order does not exist or the contact does not match. Both paths do the same
    work: one query by number and the same three constant-time comparisons, so
    neither the answer nor its timing tells them apart.
    """
    email, phone = _lookup_contact(contact)
    order = (
        # The state machine reads the status when an order is loaded.
        Order.objects.only(
            "number",
            "status",
            "public_token",
            "delivery_phone",
            "contact_email",
            "contact_phone",
        )
        .filter(number=(number or "").strip())
        .first()
    )
    if order is None:
        known_email = known_phone = delivery_phone = _NO_SUCH_CONTACT
    else:
        known_email = (order.contact_email or _NO_SUCH_CONTACT).lower()
        known_phone = order.contact_phone or _NO_SUCH_CONTACT
        delivery_phone = order.delivery_phone or _NO_SUCH_CONTACT
    given_email = email or "\x00"
    given_phone = phone or "\x00"
    matches = [
        hmac.compare_digest(known_email.encode(), given_email.encode()),
        hmac.compare_digest(known_phone.encode(), given_phone.encode()),
        hmac.compare_digest(delivery_phone.encode(), given_phone.encode()),
    ]
    return order if order is not None and any(matches) else None
