"""The customer's delivery change requests (from the public status page).

Until packing starts the customer may ask for another delivery window, add
instructions or give another address. Nothing changes on the order until Sales
approves; approval re-checks that packing has not started, applies the change
with the same old -> new record as Sales' own edits, and the carrier proposal and
labels follow because they are computed from the order's delivery fields.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import timeline
from ..models import (
    CUSTOMER_CHANGEABLE_STATUSES,
    ChangeRequestStatus,
    DeliveryChangeRequest,
    DeliveryWindow,
    NotificationKind,
    Order,
    Status,
)
from .edits import _apply_fields, _shown
from .errors import OrderActionError, OrderChanged, TransitionForbidden, TransitionNotAllowed
from .notifications import notify_customer
from .placement import DeliveryDetails

CHANGE_INSTRUCTIONS_MAX = 1000
CHANGE_REASON_MAX = 1000


def why_not_changeable(order: Order) -> str:
    """Why the customer can no longer change the delivery of ``order`` (translated)."""
    if order.status == Status.PICKED:
        return _(
            "Your goods are being packed, so the delivery can no longer be changed here. "
            "If something is urgent, call us and give your order number."
        )
    if order.status == Status.SHIPPED:
        return _(
            "Your order is on its way with the carrier, so the delivery can no longer be "
            "changed here. The carrier's tracking page shows what they can still do."
        )
    if order.status == Status.CANCELLED:
        return _("This order was cancelled.")
    return _("Your order has been delivered.")


def _require_sales(by, message):
    if by is None or not by.has_perm("orders.confirm_order"):
        raise TransitionForbidden(message)


def request_delivery_change(
    order_id, *, window="", instructions="", address: DeliveryDetails | None = None
) -> DeliveryChangeRequest:
    """The customer asks, from the status page, to change the delivery window, add
    instructions and/or deliver to another address. Sales decides later.

    Locks the order. Raises TransitionNotAllowed (409) once packing has started or
    while an earlier request waits for its answer, OrderActionError (400) when nothing
    would change or the input is invalid. Writes a public "change_requested" event
    that names only what is asked for, never the new address.
    """
    window = window or ""
    instructions = (instructions or "").strip()
    if window and window not in DeliveryWindow.values:
        raise OrderActionError(_("Choose a delivery window from the list."))
    if len(instructions) > CHANGE_INSTRUCTIONS_MAX:
        raise OrderActionError(
            _("Instructions can have at most %(max)d characters.")
            % {"max": CHANGE_INSTRUCTIONS_MAX}
        )
    if address is not None and not (address.province and address.city and address.street):
        raise OrderActionError(_("A new address needs a province, a city and a street address."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status not in CUSTOMER_CHANGEABLE_STATUSES:
            raise TransitionNotAllowed(why_not_changeable(order))
        if window == order.requested_window:
            window = ""
        if address is not None and _same_address(order, address):
            address = None
        if not (window or instructions or address):
            raise OrderActionError(
                _(
                    "Nothing would change: choose another delivery window, add instructions "
                    "or give a new address."
                )
            )
        if order.change_requests.filter(status=ChangeRequestStatus.PENDING).exists():
            raise TransitionNotAllowed(
                _(
                    "We are still looking at your earlier request. Please wait for our answer "
                    "before you send another."
                )
            )
        address = address or DeliveryDetails("", "", "", "", "")
        change = DeliveryChangeRequest.objects.create(
            order=order,
            requested_window=window,
            instructions=instructions,
            recipient=address.recipient,
            phone=address.phone,
            province=address.province,
            city=address.city,
            district=address.district,
            street=address.street,
            postal_code=address.postal_code,
        )
        timeline.record(
            order,
            "change_requested",
            data={"request": change.pk, "what": change.what},
            public=True,
            created_at=change.created_at,
        )
    return change


def _same_address(order: Order, address: DeliveryDetails) -> bool:
    wanted = {
        "delivery_recipient": address.recipient or order.delivery_recipient,
        "delivery_phone": address.phone or order.delivery_phone,
        "delivery_province": address.province,
        "delivery_city": address.city,
        "delivery_district": address.district,
        "delivery_street": address.street,
        "delivery_postal_code": address.postal_code,
    }
    return all(_shown(getattr(order, name)) == _shown(value) for name, value in wanted.items())


def _lock_change_request(request_id):
    """Lock the request's order, then the request (the order first, like every other
    service, so a decision and a warehouse transition serialise without deadlock)."""
    order_id = (
        DeliveryChangeRequest.objects.filter(pk=request_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise OrderActionError(_("This request does not exist."))
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    change = DeliveryChangeRequest.objects.select_for_update().get(pk=request_id)
    if change.status != ChangeRequestStatus.PENDING:
        raise OrderChanged(
            _("This request was answered meanwhile (%(status)s). Nothing was done.")
            % {"status": change.get_status_display()}
        )
    return order, change


def approve_delivery_change(request_id, *, by) -> DeliveryChangeRequest:
    """Sales approves a customer's change request: the order's window, instructions
    and/or address change, recorded old -> new on the timeline ("changed"), a public
    "change_approved" event is written and the customer is emailed.

    Locks the order and the request. Raises TransitionForbidden for other roles,
    OrderChanged when the request was already answered and TransitionNotAllowed
    (409) when packing has started meanwhile (the request then stays open, to be
    refused with a reason).
    """
    _require_sales(by, _("Your role may not answer delivery change requests."))
    with transaction.atomic():
        order, change = _lock_change_request(request_id)
        if order.status not in CUSTOMER_CHANGEABLE_STATUSES:
            raise TransitionNotAllowed(
                _(
                    "Order %(number)s is %(status)s: packing has started, so its delivery can "
                    "no longer be changed. Refuse the request and tell the customer why."
                )
                % {"number": order.number, "status": order.get_status_display()}
            )
        fields = {}
        if change.requested_window:
            fields["requested_window"] = change.requested_window
        if change.instructions:
            before = order.special_instructions.rstrip()
            fields["special_instructions"] = (
                f"{before}\n{change.instructions}" if before else change.instructions
            )
        if change.changes_address:
            fields.update(
                delivery_recipient=change.recipient or order.delivery_recipient,
                delivery_phone=change.phone or order.delivery_phone,
                delivery_province=change.province,
                delivery_city=change.city,
                delivery_district=change.district,
                delivery_street=change.street,
                delivery_postal_code=change.postal_code,
            )
        now = timezone.now()
        changes = _apply_fields(order, fields)
        if changes:
            order.save(update_fields=[c["field"] for c in changes])
            timeline.record(
                order,
                "changed",
                actor=by,
                data={"changes": changes, "request": change.pk},
                created_at=now,
            )
        change.status = ChangeRequestStatus.APPROVED
        change.decided_by = by
        change.decided_at = now
        change.save(update_fields=["status", "decided_by", "decided_at"])
        timeline.record(
            order,
            "change_approved",
            actor=by,
            data={"request": change.pk, "what": change.what},
            public=True,
            created_at=now,
        )
        notify_customer(
            order,
            NotificationKind.DELIVERY_CHANGE_APPROVED,
            key=str(change.pk),
            data={"what": change.what},
        )
    return change


def refuse_delivery_change(request_id, *, by, reason: str) -> DeliveryChangeRequest:
    """Sales refuses a customer's change request with a reason written for the
    customer: it is shown on the status page and in the email. The order is not
    changed. Locks the order and the request; raises OrderActionError without a
    reason, TransitionForbidden for other roles, OrderChanged when already answered."""
    _require_sales(by, _("Your role may not answer delivery change requests."))
    reason = (reason or "").strip()
    if not reason:
        raise OrderActionError(_("Give the customer a reason for the refusal."))
    if len(reason) > CHANGE_REASON_MAX:
        raise OrderActionError(
            _("The reason can have at most %(max)d characters.") % {"max": CHANGE_REASON_MAX}
        )
    with transaction.atomic():
        order, change = _lock_change_request(request_id)
        now = timezone.now()
        change.status = ChangeRequestStatus.REFUSED
        change.decided_by = by
        change.decided_at = now
        change.reason = reason
        change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        timeline.record(
            order,
            "change_refused",
            actor=by,
            data={"request": change.pk, "what": change.what, "reason": reason},
            public=True,
            created_at=now,
        )
        notify_customer(
            order,
            NotificationKind.DELIVERY_CHANGE_REFUSED,
            key=str(change.pk),
            data={"what": change.what, "reason": reason},
        )
    return change
