"""The warehouse's documents for the closing checklist (orders.closing; registered in
WarehouseConfig.ready): the order was packed, with its packing slip and labels. The
item never blocks closing: it lists the documents."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orders.closing import Check

from .models import Fulfilment


def closing_checks(orders) -> dict:
    packed = set(
        Fulfilment.objects.filter(
            order__in=[order.pk for order in orders], packed_at__isnull=False
        ).values_list("order_id", flat=True)
    )
    return {
        order.pk: [
            Check(
                "packed",
                _("Packed, with packing slip and labels"),
                order.pk in packed,
                "" if order.pk in packed else _("The warehouse has no record of packing it."),
                (
                    (_("Packing slip"), reverse("warehouse:packing_slip", args=[order.number])),
                    (_("Labels"), reverse("warehouse:labels", args=[order.number])),
                )
                if order.pk in packed
                else (),
                required=False,
            )
        ]
        for order in orders
    }
