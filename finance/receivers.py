"""Finance follows the order (connected in FinanceConfig.ready): receipt opens the
closing request; confirmation charges the goods, a change of lines adjusts the charge,
cancellation takes it back (what was paid then shows as a refund due); each shipment
charges its freight. Each runs in the transaction of the change it follows, so both
commit or neither does."""

from django.dispatch import receiver

from orders.models import Order, Status
from orders.signals import (
    order_status_changing,
    order_total_changed,
    receipt_confirmed,
    return_refund_due,
    shipment_dispatched,
)

from . import services
from .models import LedgerEntry


@receiver(receipt_confirmed, dispatch_uid="finance.open_closing_request")
def open_closing_request(sender, order, at, **kwargs):
    services.open_closing_request(order, now=at)


@receiver(order_status_changing, sender=Order, dispatch_uid="finance.goods_follow_status")
def goods_follow_status(sender, order, to_status, by, **kwargs):
    if to_status in (Status.CONFIRMED, Status.CANCELLED):
        services.sync_goods_charge(order, by=by, now=order.step_started_at)


@receiver(order_total_changed, sender=Order, dispatch_uid="finance.goods_follow_lines")
def goods_follow_lines(sender, order, by, **kwargs):
    # Lines change only before confirmation, when nothing is charged yet; should a
    # charge exist, it follows the new total.
    if LedgerEntry.objects.filter(order=order).exists():
        services.sync_goods_charge(order, by=by)


@receiver(shipment_dispatched, dispatch_uid="finance.charge_freight")
def charge_freight(sender, order, shipment_id, carrier, tracking_number, freight_cost, at, **kw):
    services.charge_freight(
        order,
        shipment_id=shipment_id,
        carrier=carrier,
        tracking_number=tracking_number,
        freight_cost=freight_cost,
        at=at,
    )


@receiver(return_refund_due, dispatch_uid="finance.credit_return")
def credit_return(sender, order, return_id, rma, goods, include_freight, at, **kwargs):
    services.credit_return(
        order, return_id=return_id, rma=rma, goods=goods, include_freight=include_freight, at=at
    )
