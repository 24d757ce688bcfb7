"""Customer emails: the Notification row, sent after commit."""

import logging

from django.db import transaction

from ..models import (
    Notification,
    Order,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Customer emails


def notify_customer(
    order: Order, kind: str, *, new=False, key="", data=None
) -> Notification | None:
    """Record an email to the customer in the caller's transaction and send it after
    commit. It goes to the email typed with the order (``order.contact_email``), never
    to an address found on an earlier customer; orders without one get none. Each kind
    is sent once per ``key`` (``new``: the order was just created, so there can be no
    earlier one)."""
    if not order.contact_email:
        return None
    if new:
        notification = Notification.objects.create(
            order=order, kind=kind, key=key, to=order.contact_email, data=data or {}
        )
        created = True
    else:
        notification, created = Notification.objects.get_or_create(
            order=order,
            kind=kind,
            key=key,
            defaults={"to": order.contact_email, "data": data or {}},
        )
    if created:
        transaction.on_commit(lambda: _enqueue_email(notification.pk))
    return notification


def _enqueue_email(notification_id):
    from ..tasks import send_customer_email

    try:
        send_customer_email.delay(notification_id)
    except Exception:  # the broker is down: the sweep re-queues unsent emails
        logger.exception("could not queue customer email %s", notification_id)
