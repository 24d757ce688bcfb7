"""Replacement orders: the goods of an exchange, sent again."""

from django.db import transaction
from django.utils import timezone

from .. import timeline
from ..models import Order, VerificationMethod
from .placement import ContactDetails, DeliveryDetails, LineRequest, place_order
from .transitions import confirm_order
from .verification import proposed_delivery_date


def place_replacement(original: Order, lines: list[LineRequest], *, reference: str) -> Order:
    """A new order for the goods of an exchange: the customer, contact and address of
    ``original`` (verified then), linked to it, its lines at no cost (the customer
    paid with ``original``), confirmed at once (the customer asked for the exchange)
    with the usual lead time; from there it goes through the warehouse and the
    carrier like any order. Once per ``reference`` (the return's RMA number): a
    second call finds the order the first placed."""
    key = f"replacement:{reference}"[:64]
    existing = Order.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        order = place_order(
            customer=original.customer,
            channel=original.channel,
            lines=lines,
            delivery=DeliveryDetails(
                recipient=original.delivery_recipient,
                phone=original.delivery_phone,
                province=original.delivery_province,
                city=original.delivery_city,
                street=original.delivery_street,
                district=original.delivery_district,
                postal_code=original.delivery_postal_code,
                country=original.delivery_country,
            ),
            contact=ContactDetails(
                original.contact_name,
                original.contact_phone,
                original.contact_email,
                original.contact_language,
            ),
            salesperson=original.salesperson,
            idempotency_key=key,
            replaces=original,
        )
        now = timezone.now()
        Order.objects.filter(pk=order.pk).update(contact_verified_at=now, address_verified_at=now)
        data = {"original": original.number, "replacement": order.number, "rma": reference}
        timeline.record(order, "replacement_for", data=data, public=True, created_at=now)
        timeline.record(original, "replacement_placed", data=data, public=True, created_at=now)
        return confirm_order(
            order.pk,
            by=None,
            promised_date=proposed_delivery_date(order),
            method=VerificationMethod.REPLACEMENT,
            agreed=reference,
        )
