"""Everything that writes returns and exchanges (the request and Sales' decision).

A customer asks on the status page, or Sales records a request made by phone: which
lines, how many units, a reason (each reason has a return window, in days after
delivery, set in the admin), details and photos. Sales approves it, whole or in part,
saying what happens next (refund, exchange, repair, or keep with a partial refund),
which makes it a return authorisation with an RMA number; or refuses it with a reason
the customer sees. Each action locks the order row, writes the timeline in the same
transaction and emails the customer after commit. An order has at most one open
return at a time (a partial unique constraint), and it keeps the order from closing
(finance's checklist).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import timeline
from orders.models import DeliveryWindow, NotificationKind, Order, OrderEvent, Status
from orders.services import OrderActionError, TransitionNotAllowed, notify_customer
from orders.signals import return_refund_due

from .models import (
    OPEN_RETURN_STATUSES,
    RequestChannel,
    ReturnLine,
    ReturnOutcome,
    ReturnPhoto,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from .photos import MAX_PHOTOS, CheckedPhoto, save_photos
from .services import DETAILS_MAX_LENGTH, _discard, _require_sales

ANSWER_MAX_LENGTH = 2000
# The states in which an order's goods may be returned.
RETURNABLE_STATUSES = (Status.DELIVERED, Status.CLOSED)


class ReturnChanged(TransitionNotAllowed):
    """The request was decided meanwhile (by someone else, or a double click)."""


def delivered_at(order) -> datetime | None:
    """When the order was delivered: its last transition to delivered on the timeline."""
    return (
        OrderEvent.objects.filter(order=order, to_status=Status.DELIVERED)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Window:
    """A reason's return window for one order: open until ``closes_at``."""

    reason: ReturnReason
    closes_at: datetime

    def is_open(self, now) -> bool:
        return now <= self.closes_at


def windows(order) -> list[Window]:
    """The active reasons with the end of their window for ``order`` (none before
    delivery, or when the order is in no returnable state)."""
    return windows_and_returns(order)[0]


def windows_and_returns(order) -> tuple[list[Window], bool]:
    """``windows(order)``, and whether the order has any return, in one query: the
    reasons, each with the delivery time and the flag as subqueries (the status page
    has a query budget)."""
    if order.status not in RETURNABLE_STATUSES:
        return [], False
    delivered = (
        OrderEvent.objects.filter(order=order, to_status=Status.DELIVERED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    reasons = list(
        ReturnReason.objects.filter(active=True).annotate(
            delivered_at=Subquery(delivered),
            has_returns=Exists(ReturnRequest.objects.filter(order=order)),
        )
    )
    if not reasons:
        return [], ReturnRequest.objects.filter(order=order).exists()
    has_returns = reasons[0].has_returns
    if reasons[0].delivered_at is None:
        return [], has_returns
    found = [
        Window(reason, reason.delivered_at + timedelta(days=reason.window_days))
        for reason in reasons
    ]
    return found, has_returns


def returnable(order) -> dict[int, int]:
    """{order line id: units that may still be asked back}: what was delivered, less
    what other returns ask (while requested) or took back (approved)."""
    taken: dict[int, int] = {}
    rows = (
        ReturnLine.objects.filter(request__order=order)
        .exclude(request__status__in=[ReturnStatus.REFUSED, ReturnStatus.WITHDRAWN])
        .values_list("line_id", "quantity", "approved_quantity", "request__status")
    )
    for line_id, asked, approved, status in rows:
        counted = asked if status == ReturnStatus.REQUESTED else (approved or 0)
        taken[line_id] = taken.get(line_id, 0) + counted
    return {
        line.pk: max(0, line.shipped_quantity - taken.get(line.pk, 0)) for line in order.lines.all()
    }


def _clean_details(details: str) -> str:
    details = (details or "").strip()
    if len(details) > DETAILS_MAX_LENGTH:
        raise OrderActionError(
            _("The description can have at most %(max)d characters.") % {"max": DETAILS_MAX_LENGTH}
        )
    return details


def _clean_quantities(order, quantities: dict) -> dict[int, int]:
    """The asked quantities, checked against what may still be returned."""
    available = returnable(order)
    wanted = {}
    for line_id, quantity in quantities.items():
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise OrderActionError(_("Enter how many units, as a whole number."))
        if quantity == 0:
            continue
        if line_id not in available:
            raise OrderActionError(_("Choose goods of this order."))
        if quantity > available[line_id]:
            raise OrderActionError(
                _("At most %(n)d of one of the goods can be returned.") % {"n": available[line_id]}
            )
        wanted[line_id] = quantity
    if not wanted:
        raise OrderActionError(_("Choose at least one item and how many to return."))
    return wanted


def request_return(
    order_id,
    *,
    reason_code: str,
    quantities: dict[int, int],
    details: str = "",
    photos: list[CheckedPhoto] = (),
    key: str,
    by=None,
    now=None,
) -> tuple[ReturnRequest, bool]:
    """The customer (``by`` None) or Sales for them by phone asks to return goods of a
    delivered order. Returns (request, created); the same ``key`` finds the request
    it opened. Refused outside the reason's window, for more units than were
    delivered (less other returns), and while another return of the order is open."""
    if by is not None:
        _require_sales(by)
    details = _clean_details(details)
    if len(photos) > MAX_PHOTOS:
        raise OrderActionError(_("Send at most %(max)d photos.") % {"max": MAX_PHOTOS})
    key = (key or "").strip()[:64]
    if not key:
        raise OrderActionError(_("The form was incomplete. Please reload the page."))
    reason = ReturnReason.objects.filter(code=reason_code, active=True).first()
    if reason is None:
        raise OrderActionError(_("Choose why you return the goods."))
    now = now or timezone.now()
    existing = ReturnRequest.objects.filter(order_id=order_id, submission_key=key).first()
    if existing is not None:
        return existing, False
    stored = []
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
            existing = ReturnRequest.objects.filter(order=order, submission_key=key).first()
            if existing is not None:
                return existing, False
            window = next((w for w in windows(order) if w.reason.pk == reason.pk), None)
            if window is None:
                raise TransitionNotAllowed(_("Goods can be returned only once they are delivered."))
            if not window.is_open(now):
                raise TransitionNotAllowed(
                    _(
                        "Returns for this reason were possible until %(date)s. Please "
                        "contact Sales: they will look at it with you."
                    )
                    % {"date": timezone.localtime(window.closes_at).strftime("%Y-%m-%d")}
                )
            if ReturnRequest.objects.filter(order=order, status__in=OPEN_RETURN_STATUSES).exists():
                raise TransitionNotAllowed(_("A return of this order is already open."))
            wanted = _clean_quantities(order, quantities)
            request = ReturnRequest.objects.create(
                order=order,
                reason=reason,
                details=details,
                channel=RequestChannel.PHONE if by else RequestChannel.CUSTOMER,
                requested_at=now,
                recorded_by=by,
                owner_id=order.salesperson_id,
                submission_key=key,
            )
            ReturnLine.objects.bulk_create(
                ReturnLine(request=request, line_id=line_id, quantity=quantity)
                for line_id, quantity in wanted.items()
            )
            save_photos(ReturnPhoto, photos, stored=stored, now=now, request=request)
            timeline.record(
                order,
                "return_requested",
                actor=by,
                data={
                    "return": request.pk,
                    "reason": reason.code,
                    "units": sum(wanted.values()),
                    "photos": len(photos),
                },
                public=True,
                created_at=now,
            )
            notify_customer(
                order, NotificationKind.RETURN_RECEIVED, key=str(request.pk), data=_email(request)
            )
    except IntegrityError:
        _discard(stored)
        existing = ReturnRequest.objects.filter(order_id=order_id, submission_key=key).first()
        if existing is not None:
            return existing, False
        raise TransitionNotAllowed(_("A return of this order is already open.")) from None
    except BaseException:
        _discard(stored)
        raise
    return request, True


def _email(request: ReturnRequest) -> dict:
    """What the return's emails say besides the order (in the customer's language)."""
    return {
        "return": request.pk,
        "reason": request.reason.code,
        "rma": request.rma_number or "",
        "outcome": request.outcome,
        "answer": request.answer,
        "pickup": request.pickup_date.isoformat() if request.pickup_date else "",
        "window": request.pickup_window,
        "lines": [
            [line.line.sku, line.line.name, line.approved_quantity or line.quantity]
            for line in request.lines.select_related("line")
        ],
    }


def _locked(return_id) -> tuple[Order, ReturnRequest]:
    order_id = ReturnRequest.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise OrderActionError(_("No such return request."))
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    request = ReturnRequest.objects.get(pk=return_id)
    if request.status != ReturnStatus.REQUESTED:
        raise ReturnChanged(
            _("This return request was already decided. Nothing was changed; please look again.")
        )
    return order, request


def _answer(text: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise OrderActionError(_("Write the reason the customer will read."))
    if len(text) > ANSWER_MAX_LENGTH:
        raise OrderActionError(
            _("The answer can have at most %(max)d characters.") % {"max": ANSWER_MAX_LENGTH}
        )
    return text


# How far ahead a carrier pickup may be booked.
PICKUP_DAYS_AHEAD = 30


def _pickup(pickup, now):
    """A carrier pickup (date, window): from today (local) to PICKUP_DAYS_AHEAD."""
    if pickup is None:
        return None
    day, window = pickup
    today = timezone.localdate(now)
    if window not in DeliveryWindow.values:
        raise OrderActionError(_("Choose the pickup's time window."))
    if day is None or not today <= day <= today + timedelta(days=PICKUP_DAYS_AHEAD):
        raise OrderActionError(
            _("Choose a pickup date from today to %(days)d days ahead.")
            % {"days": PICKUP_DAYS_AHEAD}
        )
    return day, window


def approve_return(
    return_id,
    *,
    by,
    outcome: str,
    approved: dict[int, int] | None = None,
    answer="",
    pickup=None,
    refund=None,
    now=None,
) -> ReturnRequest:
    """Sales approves the request, whole (``approved`` None) or in part ({order line
    id: units}, at most what was asked; lines left out are not approved), saying what
    happens next. The request becomes a return authorisation with its RMA number.
    ``pickup`` (date, window): a carrier collects the parcel then, which Logistics
    books. Keeping the goods with a partial refund: ``refund`` is the amount, at most
    the approved units' price; no goods come back, and the refund is due at once."""
    _require_sales(by)
    if outcome not in ReturnOutcome.values:
        raise OrderActionError(_("Choose what happens next."))
    answer = _answer(answer, required=False)
    now = now or timezone.now()
    pickup = _pickup(pickup, now)
    with transaction.atomic():
        order, request = _locked(return_id)
        lines = list(request.lines.select_related("line"))
        asked = {line.line_id: line.quantity for line in lines}
        approved = dict(asked) if approved is None else dict(approved)
        if any(pk not in asked for pk in approved) or any(
            not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= asked[pk]
            for pk, n in approved.items()
        ):
            raise OrderActionError(_("Approve at most the units the customer asked to return."))
        if not any(approved.values()):
            raise OrderActionError(
                _("Approve at least one unit, or refuse the request with a reason.")
            )
        for line in lines:
            line.approved_quantity = approved.get(line.line_id, 0)
        ReturnLine.objects.bulk_update(lines, ["approved_quantity"])
        keeps = outcome == ReturnOutcome.PARTIAL_REFUND
        if keeps:
            refund = _partial_refund(refund, lines)
            pickup = None
        serial = ReturnRequest.objects.filter(order=order, rma_number__isnull=False).count() + 1
        request.approve(
            by=by,
            outcome=outcome,
            answer=answer,
            rma_number=f"R{order.number}-{serial}",
            now=now,
            pickup=pickup,
        )
        if keeps:
            request.refund_amount = refund
        request.save()
        if keeps:
            return_refund_due.send(
                sender=Order,
                order=order,
                return_id=request.pk,
                rma=request.rma_number,
                goods=refund,
                include_freight=False,
                at=now,
            )
        partial = any(approved.get(pk, 0) < n for pk, n in asked.items())
        timeline.record(
            order,
            "return_approved_in_part" if partial else "return_approved",
            actor=by,
            data={"return": request.pk, "rma": request.rma_number, "outcome": outcome}
            | ({"pickup": pickup[0].isoformat(), "window": pickup[1]} if pickup else {}),
            note=answer,
            public=True,
            created_at=now,
        )
        notify_customer(
            order, NotificationKind.RETURN_APPROVED, key=str(request.pk), data=_email(request)
        )
    return request


def _partial_refund(amount, lines) -> Decimal:
    """The amount of a keep-the-goods refund: more than nothing, at most what the
    approved units cost, to the fen."""
    most = sum((line.line.unit_price * (line.approved_quantity or 0) for line in lines), Decimal(0))
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (ArithmeticError, ValueError, TypeError):
        amount = None
    if amount is None or not Decimal(0) < amount <= most:
        raise OrderActionError(
            _("Enter the refund: more than 0 and at most %(most)s, what the approved units cost.")
            % {"most": most.quantize(Decimal("0.01"))}
        )
    return amount


def refuse_return(return_id, *, by, answer: str, now=None) -> ReturnRequest:
    """Sales refuses the request with a reason the customer reads."""
    _require_sales(by)
    answer = _answer(answer, required=True)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _locked(return_id)
        request.refuse(by=by, answer=answer, now=now)
        request.save()
        timeline.record(
            order,
            "return_refused",
            actor=by,
            data={"return": request.pk},
            note=answer,
            public=True,
            created_at=now,
        )
        notify_customer(
            order, NotificationKind.RETURN_REFUSED, key=str(request.pk), data=_email(request)
        )
    return request
