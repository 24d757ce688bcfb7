"""Everything that writes shipments: choosing a carrier, shipping, tracking events,
delivery exceptions. Order status changes go through orders.services."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import services as order_services
from orders import timeline, workdays
from orders.clock import steps_by_code
from orders.models import (
    DeliveryWindow,
    NotificationKind,
    Order,
    Status,
    StepCode,
)
from orders.signals import shipment_dispatched
from orders.validators import check_tracking_time
from warehouse import services as warehouse
from warehouse.models import Fulfilment, Package

from . import tracking_numbers
from .models import (
    EXCEPTION_EVENTS,
    STATUS_AFTER,
    CarrierService,
    DeliveryException,
    EventType,
    Resolution,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    TrackingEvent,
)

logger = logging.getLogger(__name__)


class ShippingError(order_services.OrderActionError):
    """A shipping action was refused; ``message`` is translated and safe to show."""


def _require_logistics(by):
    if by is not None and not by.has_perm("orders.ship_order"):
        raise order_services.TransitionForbidden(
            _("Your role may not take this action on the order.")
        )


# ---------------------------------------------------------------------------
# Choosing a carrier


@dataclass
class Option:
    """A service that can carry a shipment, with what it costs and when it arrives."""

    service: CarrierService
    cost: Decimal
    arrives: date
    meets_promise: bool

    @property
    def carrier(self):
        return self.service.carrier


def add_working_days(start: date, days: int) -> date:
    """Transit days count working days in mainland China: public holidays are not
    counted and adjusted working weekends (调休) are (see orders.workdays)."""
    return workdays.add_working_days(start, days)


def _rule_matches(rule, order, weight) -> bool:
    if not rule.active:
        return False
    if rule.province and rule.province != order.delivery_province:
        return False
    if rule.city and rule.city != order.delivery_city:
        return False
    return rule.max_weight_kg is None or weight <= rule.max_weight_kg


def carrier_options(order, packages, *, today=None) -> list[Option]:
    """Every active service that may carry ``packages`` of ``order``, best first.

    A service qualifies when one of its rules covers the destination (province, city)
    and the shipment's weight, each package fits its weight limit, and it delivers in
    a time window if the customer asked for one. Best: the cheapest that arrives by
    the promised date; when none does, the fastest.
    """
    today = today or timezone.localdate()
    weight = sum((p.weight_kg for p in packages), Decimal("0"))
    heaviest = max((p.weight_kg for p in packages), default=Decimal("0"))
    wants_window = order.requested_window != DeliveryWindow.ANY
    services = (
        CarrierService.objects.filter(active=True, carrier__active=True)
        .select_related("carrier")
        .prefetch_related("rules")
    )
    options = []
    for service in services:
        if heaviest > service.max_weight_kg or (wants_window and not service.honours_time_window):
            continue
        if not any(_rule_matches(rule, order, weight) for rule in service.rules.all()):
            continue
        arrives = add_working_days(today, service.transit_days)
        cost = service.base_price + service.price_per_kg * weight
        meets = order.promised_date is None or arrives <= order.promised_date
        options.append(Option(service, cost.quantize(Decimal("0.01")), arrives, meets))
    return sorted(
        options,
        key=lambda o: (not o.meets_promise, o.cost if o.meets_promise else 0, o.arrives, o.cost),
    )


def unshipped_packages(order) -> list[Package]:
    fulfilment = Fulfilment.objects.filter(order=order).first()
    if fulfilment is None:
        return []
    return list(Package.objects.filter(order=order, round=fulfilment.round, shipments__isnull=True))


def shipped_quantities(order) -> dict[int, int]:
    rows = (
        ShipmentLine.objects.filter(shipment__order=order)
        .values("line_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["line_id"]: row["n"] for row in rows}


# ---------------------------------------------------------------------------
# Shipping


def ship(
    order_id,
    *,
    by,
    service_id,
    package_ids=None,
    lines=None,
    tracking_number="",
    reason="",
) -> Shipment:
    """Hand packages of a reviewed order to a carrier.

    ``package_ids``: which of the order's unshipped packages (all by default);
    ``lines``: {order line id: units} in this shipment (everything not yet shipped by
    default). A service other than the proposed one needs a ``reason``. The tracking
    number is checked against the carrier's format, or generated. The order becomes
    shipped by itself once every line has shipped; the customer gets the tracking link.
    """
    _require_logistics(by)
    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("customer").get(pk=order_id)
        if order.status != Status.PICKED:
            raise order_services.not_possible_now(order)
        if order.reviewed_at is None:
            raise order_services.TransitionNotAllowed(
                _("Order %(number)s has not passed the warehouse's review yet: it cannot ship.")
                % {"number": order.number}
            )
        available = {p.pk: p for p in unshipped_packages(order)}
        chosen_ids = list(available) if package_ids is None else list(package_ids)
        if not chosen_ids or any(pk not in available for pk in chosen_ids):
            raise ShippingError(_("Choose one or more of the order's packages not shipped yet."))
        packages = [available[pk] for pk in chosen_ids]
        options = carrier_options(order, packages)
        by_service = {o.service.pk: o for o in options}
        if service_id not in by_service:
            raise ShippingError(
                _("That service cannot carry this shipment (destination, weight or time window).")
            )
        option, proposed = by_service[service_id], options[0]
        overridden = option.service.pk != proposed.service.pk
        if overridden and not reason:
            raise ShippingError(
                _("Say why you chose another carrier than the proposed %(carrier)s.")
                % {"carrier": proposed.service}
            )
        carrier = option.service.carrier
        number = _tracking_number(carrier, tracking_number)
        remaining = warehouse.unshipped_quantities(order)
        in_hand = warehouse.pick_targets(order)  # picked, reserved, not shipped yet
        wanted = dict(in_hand) if lines is None else {int(k): v for k, v in lines.items()}
        wanted = {pk: qty for pk, qty in wanted.items() if qty}
        if not wanted or any(
            pk not in in_hand or not isinstance(qty, int) or not 0 < qty <= in_hand[pk]
            for pk, qty in wanted.items()
        ):
            raise ShippingError(_("Choose what is in the shipment: at most what is left to ship."))
        completes = all(remaining[pk] - wanted.get(pk, 0) == 0 for pk in remaining)
        last_packages = len(packages) == len(available)
        rest_waits = last_packages and not completes and order.partial_agreed_at is not None
        if completes != last_packages and not rest_waits:
            # Goods and parcels must run out together: the last goods go in the last parcels.
            raise ShippingError(
                _("The last goods to ship must go with the last packages, and only then.")
            )
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(
                    order=order,
                    service=option.service,
                    carrier=carrier,
                    proposed_service=proposed.service,
                    override_reason=reason if overridden else "",
                    tracking_number=number,
                    shipped_by=by,
                    shipped_at=timezone.now(),
                    estimated_delivery=option.arrives,
                    freight_cost=option.cost,
                )
        except IntegrityError:
            raise ShippingError(
                _("Tracking number %(number)s is already used for another shipment.")
                % {"number": number}
            ) from None
        shipment.packages.set(packages)
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, line_id=pk, quantity=qty) for pk, qty in wanted.items()
        )
        order_services.record_shipped_quantities(order, wanted)
        warehouse.mark_packages_shipped(
            [p.pk for p in packages], carrier_name=carrier.name, tracking_number=number
        )
        timeline.record(
            order,
            "shipment",
            actor=by,
            public=True,
            note=shipment.override_reason,
            data={
                "carrier": carrier.name,
                "tracking": number,
                "link": shipment.tracking_link,
                "estimate": option.arrives.isoformat(),
            },
            created_at=shipment.shipped_at,
        )
        warehouse.take_out(order, wanted, by=by, now=shipment.shipped_at)
        shipment_dispatched.send(
            sender=Shipment,
            order=order,
            shipment_id=shipment.pk,
            carrier=carrier.name,
            tracking_number=number,
            freight_cost=shipment.freight_cost,
            by=by,
            at=shipment.shipped_at,
        )
        if completes:
            order_services.ship_order(order.pk, by=by)
        elif rest_waits:
            order_services.await_rest(
                order.pk, by=by, note=_("The available goods shipped; the rest follows.")
            )
        order_services.notify_customer(
            order,
            NotificationKind.ORDER_SHIPPED,
            key=str(shipment.pk),
            data={
                "carrier": carrier.name,
                "tracking": number,
                "link": shipment.tracking_link,
                "estimate": option.arrives.isoformat(),
            },
        )
    return shipment


def _tracking_number(carrier, given: str) -> str:
    if given:
        number = tracking_numbers.normalize(given)
        if not tracking_numbers.is_valid(carrier, number):
            raise ShippingError(
                _("%(number)s is not a valid %(carrier)s tracking number.")
                % {"number": given, "carrier": carrier.name}
            )
        return number
    for _attempt in range(20):
        number = tracking_numbers.generate(carrier)
        if not Shipment.objects.filter(carrier=carrier, tracking_number=number).exists():
            return number
    raise ShippingError(_("Could not generate a free tracking number; enter one."))


# ---------------------------------------------------------------------------
# Tracking events and exceptions

# How long the owner has to resolve a delivery exception when the tracking step sets none.
DEFAULT_EXCEPTION_DUE = timedelta(hours=4)

# What the customer is told will happen next, per problem.
NEXT_STEPS = {
    EventType.DELAYED: "delayed",
    EventType.FAILED_ATTEMPT: "failed_attempt",
    EventType.LOST: "lost",
    EventType.DAMAGED: "damaged",
    EventType.ADDRESS_PROBLEM: "address_problem",
}


def record_event(
    shipment_id,
    *,
    type: str,
    happened_at=None,
    location="",
    description="",
    carrier_event_id="",
    by=None,
) -> tuple[TrackingEvent, bool]:
    """Record what happened to a shipment. An event the carrier sent before (same
    event id) changes nothing and returns (the first event, False).

    The shipment's status follows; a problem opens an exception (owner, due time) and
    tells the customer at once; when every shipment of the order is delivered, the
    order becomes delivered. Raises ShippingError for an unknown event type or a time
    no event can have (in the future, or before EARLIEST_TIME: orders.validators); the
    pages and the webhook also check the time against the shipment's hand-over.
    """
    if type not in EventType.values:
        raise ShippingError(_("Unknown tracking event."))
    if by is not None:
        _require_logistics(by)
    happened_at = happened_at or timezone.now()
    try:
        check_tracking_time(happened_at)
    except ValidationError as error:
        raise ShippingError(error.messages[0]) from None
    carrier_event_id = (carrier_event_id or "")[:100]
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update()
            .select_related("order", "carrier")
            .get(pk=shipment_id)
        )
        if carrier_event_id:
            earlier = TrackingEvent.objects.filter(
                shipment=shipment, carrier_event_id=carrier_event_id
            ).first()
            if earlier is not None:
                return earlier, False
        event = TrackingEvent.objects.create(
            shipment=shipment,
            type=type,
            happened_at=happened_at,
            location=location[:120],
            description=description[:300],
            carrier_event_id=carrier_event_id,
            entered_by=by,
        )
        if shipment.status != ShipmentStatus.DELIVERED:
            shipment.status = STATUS_AFTER[type]
        if type == EventType.DELIVERED:
            shipment.delivered_at = happened_at
        shipment.save(update_fields=["status", "delivered_at"])
        order = shipment.order
        timeline.record(
            order,
            "tracking",
            actor=by,
            public=True,
            data={
                "type": type,
                "location": event.location,
                "carrier": shipment.carrier.name,
                "tracking": shipment.tracking_number,
                "happened_at": happened_at.isoformat(),
            },
            created_at=happened_at,
        )
        if type in EXCEPTION_EVENTS:
            _open_exception(shipment, event)
        if type == EventType.DELIVERED:
            _deliver_if_complete(order, by)
    return event, True


def _open_exception(shipment, event):
    order = Order.objects.select_related("customer").get(pk=shipment.order_id)
    step = steps_by_code().get(StepCode.TRACKING)
    within = (step.follow_up_within if step else None) or DEFAULT_EXCEPTION_DUE
    now = timezone.now()
    problem = DeliveryException.objects.create(
        shipment=shipment,
        order=order,
        event=event,
        type=event.type,
        owner=shipment.shipped_by,
        opened_at=now,
        due_at=now + within,
    )
    timeline.record(
        order,
        "exception_opened",
        data={"type": event.type, "location": event.location, "exception": problem.pk},
        created_at=now,
    )
    order_services.notify_customer(
        order,
        NotificationKind.DELIVERY_PROBLEM,
        key=str(problem.pk),
        data={
            "problem": event.type,
            "next": NEXT_STEPS[event.type],
            "carrier": shipment.carrier.name,
            "tracking": shipment.tracking_number,
            "link": shipment.tracking_link,
        },
    )
    return problem


def _deliver_if_complete(order, by):
    order.refresh_from_db()
    if order.status != Status.SHIPPED:
        return
    if order.shipments.exclude(status=ShipmentStatus.DELIVERED).exists():
        return
    # The carrier's word is the system's: no user permission is needed (by=None).
    order_services.deliver_order(order.pk, by=None, note="")


def resolve_exception(exception_id, *, by, resolution: str, note: str = "") -> DeliveryException:
    """Record how a delivery problem was solved; it goes on the order's timeline."""
    if by is None or not (by.has_perm("orders.ship_order") or by.has_perm("orders.confirm_order")):
        raise order_services.TransitionForbidden(
            _("Your role may not take this action on the order.")
        )
    if resolution not in Resolution.values:
        raise ShippingError(_("Choose how the problem was solved."))
    note = (note or "").strip()
    if not note:
        raise ShippingError(_("Say what was done."))
    with transaction.atomic():
        problem = DeliveryException.objects.select_for_update().get(pk=exception_id)
        if problem.resolved_at is not None:
            raise order_services.OrderChanged(_("This problem was resolved already."))
        problem.resolution = resolution
        problem.resolution_note = note[:2000]
        problem.resolved_at = timezone.now()
        problem.resolved_by = by
        problem.save(update_fields=["resolution", "resolution_note", "resolved_at", "resolved_by"])
        timeline.record(
            problem.order_id,
            "exception_resolved",
            actor=by,
            public=True,
            note=note,
            data={"resolution": resolution, "exception": problem.pk},
            created_at=problem.resolved_at,
        )
    return problem


def open_exceptions():
    return (
        DeliveryException.objects.filter(resolved_at__isnull=True)
        .select_related("order__customer", "shipment__carrier", "owner")
        .order_by("opened_at")
    )


def late_shipments(today=None):
    """Shipments not delivered whose order's promised date has passed."""
    today = today or timezone.localdate()
    return (
        Shipment.objects.exclude(status=ShipmentStatus.DELIVERED)
        .filter(Q(order__promised_date__lt=today))
        .select_related("order__customer", "carrier")
        .order_by("order__promised_date")
    )
