"""Verification, customer links and the customer's own answers."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import timeline, workdays
from ..models import (
    Customer,
    Order,
    Status,
    VerificationMethod,
)
from .change_requests import _require_sales
from .errors import OrderActionError, TransitionForbidden, TransitionNotAllowed
from .transitions import confirm_order


def verify_order(order_id, *, by, contact=False, address=False, method="", note="") -> Order:
    """Sales records that it checked the contact details and/or the delivery address
    (who, when, how), on the timeline. Only while the order is placed."""
    if not (contact or address):
        raise OrderActionError(_("Tick what you verified: contact details, address or both."))
    if method not in (VerificationMethod.PHONE, VerificationMethod.EMAIL):
        raise OrderActionError(_("Choose how you verified."))
    if by is not None and not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(_("Your role may not verify orders."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("Only orders waiting for confirmation are verified."))
        now = timezone.now()
        fields = []
        if contact:
            order.contact_verified_at = now
            fields.append("contact_verified_at")
        if address:
            order.address_verified_at = now
            fields.append("address_verified_at")
        order.save(update_fields=fields)
        timeline.record(
            order,
            "verified",
            actor=by,
            data={"contact": bool(contact), "address": bool(address), "method": method},
            note=(note or "").strip(),
            created_at=now,
        )
    return order


def link_order_to_customer(order_id, customer_id, *, by) -> Order:
    """Sales files the order under an existing customer, after checking (usually by
    phone) that the person who placed it is that customer.

    Only a possible match may be chosen: a customer with the order's contact phone or
    email (``selectors.possible_customer_filter``). The order's own contact details
    (name, phone, email, language), where its emails go, stay as they were typed, and
    no customer row is changed or merged: the customer the order was filed under at
    placement stays, without this order, and can be chosen again to undo. Writes a
    "customer_linked" timeline event (who, from which customer to which).

    Locks the order. Raises TransitionForbidden for other roles, TransitionNotAllowed
    once the order is confirmed or cancelled, OrderActionError for a customer that is
    not a possible match.
    """
    from ..selectors import possible_customer_filter

    _require_sales(by, _("Your role may not change whom an order is filed under."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Only orders waiting for confirmation can be filed under another customer.")
            )
        customer = Customer.objects.filter(possible_customer_filter(order), pk=customer_id).first()
        if customer is None:
            raise OrderActionError(
                _("This customer has neither the phone number nor the email of this order.")
            )
        if customer.pk == order.customer_id:
            return order
        previous = order.customer_id
        order.customer = customer
        order.save(update_fields=["customer"])
        timeline.record(
            order,
            "customer_linked",
            actor=by,
            data={"customer": customer.pk, "name": customer.name, "previous": previous},
        )
    return order


def keep_order_separate(order_id, *, by) -> Order:
    """Sales records that the person who placed the order is none of the customers
    sharing its phone or email: the order stays filed under its own customer. Writes a
    "customer_kept_separate" timeline event. Locks the order; raises like
    ``link_order_to_customer``."""
    _require_sales(by, _("Your role may not change whom an order is filed under."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(
                _("Only orders waiting for confirmation can be filed under another customer.")
            )
        timeline.record(
            order,
            "customer_kept_separate",
            actor=by,
            data={"customer": order.customer_id},
        )
    return order


def confirm_by_customer(order_id) -> Order:
    """The customer confirms through the signed link in the order-received email.

    Their answer verifies the contact (they got the email) and the address (they saw
    it), and the delivery date shown to them becomes the promise.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("This order has already been answered."))
        now = timezone.now()
        order.contact_verified_at = order.contact_verified_at or now
        order.address_verified_at = order.address_verified_at or now
        order.save(update_fields=["contact_verified_at", "address_verified_at"])
        return confirm_order(
            order.pk,
            by=None,
            promised_date=proposed_delivery_date(order),
            method=VerificationMethod.LINK,
            agreed=_("Confirmed by the customer online."),
        )


def request_callback(order_id) -> Order:
    """The customer asks Sales to call before confirming (from the signed link)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Status.PLACED:
            raise TransitionNotAllowed(_("This order has already been answered."))
        if order.callback_requested_at is None:
            order.callback_requested_at = timezone.now()
            order.save(update_fields=["callback_requested_at"])
            timeline.record(order, "callback_requested")
    return order


def proposed_delivery_date(order):
    """The date shown to a customer confirming online: their wish, else the lead time in
    working days (public holidays and adjusted working weekends counted, orders.workdays)."""
    earliest = workdays.add_working_days(timezone.localdate(), settings.O2D_DELIVERY_LEAD_DAYS)
    if order.requested_date and order.requested_date >= earliest:
        return order.requested_date
    return earliest
