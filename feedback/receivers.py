"""Feedback follows the money and the carriers (connected in FeedbackConfig.ready): a
refund Finance pays for a return completes the return, in the refund's transaction;
the carrier webhook's events for a parcel sent back are recorded on its return."""

from django.dispatch import receiver

from orders.signals import parcel_events, refund_paid

from . import return_goods

RETURN = "return"  # finance's RefundFor.RETURN (departments do not import each other)


@receiver(refund_paid, dispatch_uid="feedback.complete_refunded_return")
def complete_refunded_return(sender, order, refund_for, amount, balance, at, **kwargs):
    if refund_for == RETURN:
        return_goods.refund_paid(order, amount=amount, balance=balance, at=at)


@receiver(parcel_events, dispatch_uid="feedback.track_return_parcels")
def track_return_parcels(sender, carrier, events, **kwargs):
    return return_goods.record_parcel_events(carrier, events)
