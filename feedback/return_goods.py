"""The goods of an approved return on their way back, and what becomes of them.

The customer (or Sales for them) gives the parcel's carrier and tracking number; the
warehouse receives the parcel against the RMA number, counting what arrived (other
goods or other quantities than approved go back to Sales as a mismatch); a second
warehouse person inspects each received unit (the four-eyes rule of the review gate):
back to stock, written off or sent to repair. The inspection moves the stock (the
warehouse listens to orders.signals.return_inspected) and, when the return ends in a
refund, credits the customer (finance listens to return_refund_due): Finance then
pays the refund, which completes the return (refund_paid). Other outcomes are
completed by Sales. Each step locks the order row, writes the timeline in the same
transaction and emails the customer after commit.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from orders import timeline
from orders.models import NotificationKind, Order, ReturnStep, ReturnStepCode
from orders.roles import Role, has_role
from orders.services import (
    LineRequest,
    OrderActionError,
    TransitionForbidden,
    TransitionNotAllowed,
    notify_customer,
    place_replacement,
)
from orders.signals import return_inspected, return_refund_due

from .models import (
    OPEN_RETURN_STATUSES,
    REFUND_OUTCOMES,
    Disposition,
    ReturnLine,
    ReturnOutcome,
    ReturnParcelEvent,
    ReturnRequest,
    ReturnStatus,
)
from .returns import ReturnChanged, _email

NOTE_MAX_LENGTH = 2000
CENT = Decimal("0.01")
# A carrier's tracking number: letters, digits and dashes.
TRACKING = re.compile(r"[A-Za-z0-9-]{6,40}")


def _lock(return_id) -> tuple[Order, ReturnRequest]:
    order_id = ReturnRequest.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise OrderActionError(_("No such return."))
    order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
    return order, ReturnRequest.objects.select_related("reason").get(pk=return_id)


def _expect(request: ReturnRequest, transition, by=None) -> None:
    """``transition`` may run now (else the return moved meanwhile: a conflict) and
    ``by`` may run it (its role; the four-eyes rule for the inspection)."""
    if not can_proceed(transition):
        raise ReturnChanged(
            _("Return %(rma)s is now “%(status)s”: nothing was changed. Please look again.")
            % {"rma": request.rma_number or request.pk, "status": request.get_status_display()}
        )
    if by is not None and not has_transition_perm(transition, by):
        if transition.__name__ == "inspect" and by.pk == request.received_by_id:
            raise TransitionForbidden(
                _("A second person inspects the goods: you received this parcel.")
            )
        raise TransitionForbidden(_("Your role may not take this action on the order."))


def _note(text) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise OrderActionError(
            _("The note can have at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}
        )
    return text


def remind_senders(now=None) -> int:
    """Remind once each customer whose approved return's goods have not been sent past
    the sending step's reminder time (orders.ReturnStep). Each reminder is claimed
    with a conditional UPDATE in its own transaction: overlapping sweeps, or a worker
    that died, never send it twice. Returns how many were recorded."""
    step = ReturnStep.objects.filter(code=ReturnStepCode.SENDING).first()
    if step is None or step.reminder_after is None:
        return 0
    now = now or timezone.now()
    waiting = (
        ReturnRequest.objects.filter(
            status=ReturnStatus.APPROVED,
            reminded_at__isnull=True,
            decided_at__lte=now - step.reminder_after,
        )
        .exclude(outcome=ReturnOutcome.PARTIAL_REFUND)
        .values_list("pk", flat=True)
    )
    reminded = 0
    for pk in list(waiting):
        with transaction.atomic():
            claimed = ReturnRequest.objects.filter(
                pk=pk, status=ReturnStatus.APPROVED, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            order, request = _lock(pk)
            timeline.record(
                order,
                "return_send_reminder",
                data={"return": request.pk, "rma": request.rma_number},
                created_at=now,
            )
            notify_customer(
                order,
                NotificationKind.RETURN_SEND_REMINDER,
                key=str(request.pk),
                data=_email(request),
            )
            reminded += 1
    return reminded


def record_parcel_events(carrier: str, events: list[dict]) -> dict:
    """Carrier events for parcels sent back (by the returns' tracking numbers, while
    the return is open): each recorded once per carrier event id, on the return and
    its order's timeline (public, so that the customer follows the parcel). A
    problem (lost, damaged, delayed...) marks the return for Sales. Returns the ids
    of the events recorded and of those already recorded."""
    found = {"accepted": [], "duplicates": []}
    numbers = {event["tracking_number"].upper() for event in events}
    open_returns = {
        r.return_tracking: r.pk
        for r in ReturnRequest.objects.filter(
            return_tracking__in=numbers, status__in=OPEN_RETURN_STATUSES
        )
    }
    for event in events:
        return_id = open_returns.get(event["tracking_number"].upper())
        if return_id is None:
            continue
        with transaction.atomic():
            order, request = _lock(return_id)
            if ReturnParcelEvent.objects.filter(
                request=request, carrier=carrier, carrier_event_id=event["id"]
            ).exists():
                found["duplicates"].append(event["id"])
                continue
            item = ReturnParcelEvent.objects.create(
                request=request,
                carrier=carrier,
                carrier_event_id=event["id"],
                type=event["type"],
                happened_at=event["happened_at"],
                location=event["location"],
                description=event["description"],
            )
            data = {"return": request.pk, "rma": request.rma_number, "event": item.type}
            timeline.record(
                order,
                "return_parcel_event",
                data=data | {"location": item.location},
                public=True,
                created_at=item.happened_at,
            )
            if item.is_problem and not request.parcel_problem:
                request.parcel_problem = True
                request.save(update_fields=["parcel_problem"])
                timeline.record(order, "return_parcel_problem", data=data)
            found["accepted"].append(event["id"])
    return found


def find_by_rma(rma_number: str) -> ReturnRequest | None:
    """The return whose RMA number was scanned or typed (case and spaces forgiven)."""
    rma_number = re.sub(r"\s+", "", rma_number or "").upper()
    if not rma_number:
        return None
    return ReturnRequest.objects.select_related("order").filter(rma_number=rma_number).first()


def send_back(return_id, *, tracking: str, carrier: str = "", by=None, now=None) -> ReturnRequest:
    """The customer (``by`` None) or Sales for them says the parcel is on its way back,
    with its tracking number. Giving the same number again changes nothing."""
    tracking = re.sub(r"\s+", "", tracking or "").upper()
    carrier = (carrier or "").strip()[:60]
    if not TRACKING.fullmatch(tracking):
        raise OrderActionError(
            _("Enter the parcel's tracking number (6 to 40 letters, digits or dashes).")
        )
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock(return_id)
        if request.status == ReturnStatus.IN_TRANSIT and request.return_tracking == tracking:
            return request
        _expect(request, request.send)
        request.send(carrier=carrier, tracking=tracking, now=now)
        request.save()
        timeline.record(
            order,
            "return_sent",
            actor=by,
            data={"return": request.pk, "rma": request.rma_number, "tracking": tracking},
            note=carrier,
            public=True,
            created_at=now,
        )
    return request


def book_pickup(return_id, *, by, tracking: str, carrier: str = "", now=None) -> ReturnRequest:
    """Logistics booked the carrier's pickup of a return's parcel: the carrier's
    tracking number puts the parcel on its way back."""
    if by is None or not has_role(by, Role.LOGISTICS):
        raise TransitionForbidden(_("Your role may not take this action on the order."))
    now = now or timezone.now()
    with transaction.atomic():
        _order, request = _lock(return_id)
        if request.pickup_date is None:
            raise OrderActionError(_("This return is not collected by a carrier."))
        send_back(return_id, tracking=tracking, carrier=carrier, by=by, now=now)
        ReturnRequest.objects.filter(pk=return_id).update(pickup_booked_at=now, pickup_booked_by=by)
        request.refresh_from_db()
    return request


def _received(request: ReturnRequest, quantities: dict) -> dict[int, int]:
    lines = {line.line_id: line for line in request.lines.select_related("line")}
    received = {}
    for line_id, quantity in quantities.items():
        if line_id not in lines:
            raise OrderActionError(_("Count only the goods of this return."))
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise OrderActionError(_("Enter how many units, as a whole number."))
        if quantity > lines[line_id].line.shipped_quantity:
            raise OrderActionError(
                _("More units than were delivered: count again, or note what else arrived.")
            )
        received[line_id] = quantity
    return {line_id: received.get(line_id, 0) for line_id in lines}


def receive(return_id, *, by, quantities: dict[int, int], note="", now=None) -> ReturnRequest:
    """The warehouse received the parcel of a return, scanned by its RMA number:
    ``quantities`` is what arrived per order line of the return ({line id: units}).
    When it differs from what was approved, or the note says something else came,
    the return is marked as a mismatch for Sales to settle with the customer."""
    note = _note(note)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock(return_id)
        _expect(request, request.receive, by)
        received = _received(request, quantities)
        lines = list(request.lines.all())
        for line in lines:
            line.received_quantity = received[line.line_id]
        if not any(received.values()) and not note:
            raise OrderActionError(_("Count what arrived, or note what the parcel held."))
        mismatch = any(line.received_quantity != line.approved_quantity for line in lines)
        ReturnLine.objects.bulk_update(lines, ["received_quantity"])
        request.receive(by=by, note=note, mismatch=mismatch, now=now)
        request.save()
        data = {"return": request.pk, "rma": request.rma_number, "units": sum(received.values())}
        timeline.record(order, "return_received", actor=by, data=data, public=True, created_at=now)
        if mismatch:
            timeline.record(
                order, "return_mismatch", actor=by, data=data, note=note, created_at=now
            )
        notify_customer(
            order, NotificationKind.RETURN_ARRIVED, key=str(request.pk), data=_email(request)
        )
    return request


@dataclass(frozen=True)
class Counted:
    """What the inspection did with the received units of one order line."""

    restock: int = 0
    write_off: int = 0
    repair: int = 0

    @property
    def total(self) -> int:
        return self.restock + self.write_off + self.repair


def refund_for(request: ReturnRequest, lines: list[ReturnLine]) -> Decimal:
    """The goods' refund: the unit price of every unit received, less the reason's
    restocking fee, to the fen (half up, as the fapiao rounds)."""
    goods = sum(
        (line.line.unit_price * (line.received_quantity or 0) for line in lines), Decimal(0)
    )
    fee = (goods * request.reason.restocking_fee / 100).quantize(CENT)
    return (goods - fee).quantize(CENT)


def inspect(return_id, *, by, counted: dict[int, Counted], note="", now=None) -> ReturnRequest:
    """A second warehouse person inspects the received units: each is back to stock,
    written off or sent to repair (every received unit exactly once). The stock moves
    and, for a refund, the customer is credited, in the same transaction."""
    note = _note(note)
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock(return_id)
        _expect(request, request.inspect, by)
        lines = list(request.lines.select_related("line"))
        for line in lines:
            done = counted.get(line.line_id, Counted())
            if min(done.restock, done.write_off, done.repair) < 0 or any(
                not isinstance(n, int) or isinstance(n, bool)
                for n in (done.restock, done.write_off, done.repair)
            ):
                raise OrderActionError(_("Enter how many units, as a whole number."))
            if done.total != (line.received_quantity or 0):
                raise OrderActionError(
                    _(
                        "%(sku)s: say what becomes of each of the %(n)d units received, "
                        "no more and no fewer."
                    )
                    % {"sku": line.line.sku, "n": line.received_quantity or 0}
                )
            line.restocked, line.written_off, line.to_repair = (
                done.restock,
                done.write_off,
                done.repair,
            )
        ReturnLine.objects.bulk_update(lines, ["restocked", "written_off", "to_repair"])
        refund = refund_for(request, lines) if request.outcome in REFUND_OUTCOMES else None
        request.inspect(by=by, note=note, refund_amount=refund, now=now)
        request.save()
        units = [
            (line.line.product_id, disposition, quantity)
            for line in lines
            for disposition, quantity in (
                (Disposition.RESTOCK, line.restocked),
                (Disposition.WRITE_OFF, line.written_off),
                (Disposition.REPAIR, line.to_repair),
            )
            if quantity
        ]
        return_inspected.send(
            sender=Order,
            order=order,
            return_id=request.pk,
            rma=request.rma_number,
            units=[(product, str(disposition), n) for product, disposition, n in units],
            by=by,
            at=now,
        )
        if refund:
            return_refund_due.send(
                sender=Order,
                order=order,
                return_id=request.pk,
                rma=request.rma_number,
                goods=refund,
                include_freight=request.reason.refund_freight,
                at=now,
            )
        replacement = None
        if request.outcome == ReturnOutcome.EXCHANGE:
            replacement = _exchange(order, request, lines, now)
        timeline.record(
            order,
            "return_inspected",
            actor=by,
            data={
                "return": request.pk,
                "rma": request.rma_number,
                "restocked": sum(line.restocked for line in lines),
                "written_off": sum(line.written_off for line in lines),
                "repair": sum(line.to_repair for line in lines),
            },
            note=note,
            public=True,
            created_at=now,
        )
        email = _email(request) | {
            "refund": str(refund) if refund else "",
            "replacement": replacement.number if replacement else "",
        }
        notify_customer(order, NotificationKind.RETURN_INSPECTED, key=str(request.pk), data=email)
    return request


def _exchange(order, request: ReturnRequest, lines: list[ReturnLine], now) -> Order | None:
    """The new goods of an exchange: a replacement order for every unit received, at
    no cost, confirmed and on its way to the warehouse; the return is replaced."""
    wanted = [
        LineRequest(line.line.product, line.received_quantity)
        for line in lines
        if line.received_quantity
    ]
    if not wanted:  # nothing arrived: Sales settles it with the customer
        return None
    replacement = place_replacement(order, wanted, reference=request.rma_number)
    request.replace(replacement=replacement, now=now)
    request.save()
    return replacement


def settle(return_id, *, by, note, now=None) -> ReturnRequest:
    """Sales completes an inspected return that ends otherwise than in a refund (the
    exchange sent, the repair done), saying what was done."""
    note = _note(note)
    if not note:
        raise OrderActionError(_("Say what was done for the customer."))
    now = now or timezone.now()
    with transaction.atomic():
        order, request = _lock(return_id)
        if request.outcome in REFUND_OUTCOMES and request.refund_amount:
            raise TransitionNotAllowed(
                _("This return ends with a refund: it is completed when Finance pays it.")
            )
        _expect(request, request.settle, by)
        request.settle(by=by, now=now)
        request.save()
        timeline.record(
            order,
            "return_completed",
            actor=by,
            data={"return": request.pk, "rma": request.rma_number},
            note=note,
            public=True,
            created_at=now,
        )
    return request


def refund_paid(order, *, amount, balance, at) -> ReturnRequest | None:
    """Finance paid a refund for a return (in its transaction, the order locked): what
    was paid is added up on the return, and once nothing more is owed to the
    customer the inspected return is completed."""
    request = (
        ReturnRequest.objects.filter(order=order, refund_amount__gt=0)
        .filter(
            Q(status=ReturnStatus.INSPECTED)
            | Q(status=ReturnStatus.APPROVED, outcome=ReturnOutcome.PARTIAL_REFUND)
        )
        .first()
    )
    if request is None:
        return None
    paid = (request.refund_paid or Decimal(0)) + amount
    if balance < 0:  # paid in part: completed with the rest
        request.refund_paid = paid
        request.save(update_fields=["refund_paid"])
        return request
    request.refunded(amount=paid, now=at)
    request.save()
    timeline.record(
        order,
        "return_refunded",
        data={
            "return": request.pk,
            "rma": request.rma_number,
            "amount": str(paid),
            "currency": order.currency,
        },
        public=True,
        created_at=at,
    )
    email = _email(request) | {"refund": str(paid)}
    notify_customer(order, NotificationKind.RETURN_REFUNDED, key=str(request.pk), data=email)
    return request
