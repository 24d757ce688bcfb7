"""Logistics' items of the closing checklist (orders.closing; registered in
LogisticsConfig.ready): every shipment delivered, no open delivery exception. The
proof of delivery is the carrier's "delivered" event, on the logistics order page."""

from django.db.models import Exists
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy as ngettext

from orders.closing import Check, Condition

from .models import DeliveryException, Shipment, ShipmentStatus

SHIPMENTS = Condition(
    "shipments",
    _("Every shipment delivered"),
    lambda order: (
        ~Exists(Shipment.objects.filter(order=order))
        | Exists(Shipment.objects.filter(order=order).exclude(status=ShipmentStatus.DELIVERED))
    ),
)
DELIVERY_EXCEPTIONS = Condition(
    "delivery_exceptions",
    _("No open delivery exception"),
    lambda order: Exists(DeliveryException.objects.filter(order=order, resolved_at__isnull=True)),
)
CONDITIONS = (SHIPMENTS, DELIVERY_EXCEPTIONS)


def closing_checks(orders) -> dict:
    ids = [order.pk for order in orders]
    shipments: dict[int, list] = {}
    for order_id, status in Shipment.objects.filter(order__in=ids).values_list(
        "order_id", "status"
    ):
        shipments.setdefault(order_id, []).append(status)
    exceptions: dict[int, int] = {}
    for order_id in DeliveryException.objects.filter(
        order__in=ids, resolved_at__isnull=True
    ).values_list("order_id", flat=True):
        exceptions[order_id] = exceptions.get(order_id, 0) + 1
    checks = {}
    for order in orders:
        page = reverse("logistics:order", args=[order.number])
        statuses = shipments.get(order.pk, [])
        undelivered = sum(1 for status in statuses if status != ShipmentStatus.DELIVERED)
        if not statuses:
            detail = _("The order has no shipment.")
        elif undelivered:
            detail = ngettext(
                "%(count)d of %(total)d shipment not delivered.",
                "%(count)d of %(total)d shipments not delivered.",
                len(statuses),
            ) % {
                "count": undelivered,
                "total": len(statuses),
            }
        else:
            detail = ""
        open_count = exceptions.get(order.pk, 0)
        checks[order.pk] = [
            Check(
                SHIPMENTS.key,
                SHIPMENTS.label,
                bool(statuses) and not undelivered,
                detail,
                ((_("Proof of delivery (carrier events)"), page),),
            ),
            Check(
                DELIVERY_EXCEPTIONS.key,
                DELIVERY_EXCEPTIONS.label,
                not open_count,
                ngettext(
                    "%(count)d delivery exception still open.",
                    "%(count)d delivery exceptions still open.",
                    open_count,
                )
                % {"count": open_count}
                if open_count
                else "",
                ((_("Delivery problems"), page),),
            ),
        ]
    return checks
