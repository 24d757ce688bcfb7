"""Customer emails: rendered in the customer's language, HTML and plain text, sent by
a Celery worker after the transaction that recorded them has committed."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import links
from .models import Notification
from .selectors import masked_first_name

MAX_ATTEMPTS = 8


def render_notification(notification: Notification) -> EmailMultiAlternatives:
    order = notification.order
    with translation.override(notification.language or order.customer.language):
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "greeting_name": masked_first_name(order.customer.name).rstrip("*")
            or order.customer.name,
            "customer_name": order.customer.name,
            "status_url": settings.SITE_URL.rstrip("/") + order.get_public_url(),
            "confirm_url": links.confirm_url(order),
            "confirm_days": settings.O2D_CONFIRM_LINK_DAYS,
            "order_url": settings.SITE_URL.rstrip("/") + order.get_absolute_url(),
            "shortage": order.events.filter(code="shortage").last(),
            "data": notification.data,
        }
        base = f"emails/{notification.kind}"
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{base}.txt", context),
            to=[notification.to],
        )
        message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return message


def deliver(notification_id: int) -> bool:
    """Send one recorded email unless it was sent already. Returns True when sent.

    The attempt is claimed with a conditional UPDATE on ``attempts``, so two workers
    holding the same job never both send it; the SMTP call happens outside any
    transaction. Raises the transport's error so the task can retry.
    """
    notification = Notification.objects.select_related("order__customer").get(pk=notification_id)
    if notification.sent_at is not None or notification.attempts >= MAX_ATTEMPTS:
        return False
    claimed = Notification.objects.filter(
        pk=notification.pk, sent_at__isnull=True, attempts=notification.attempts
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return False
    try:
        render_notification(notification).send()
    except Exception as error:
        Notification.objects.filter(pk=notification.pk).update(last_error=repr(error)[:2000])
        raise
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), last_error="")
    return True


def unsent(older_than=timedelta(minutes=10), now=None):
    """Emails recorded but not sent after ``older_than`` (the broker or SMTP was down)."""
    now = now or timezone.now()
    return Notification.objects.filter(
        sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, created_at__lt=now - older_than
    ).values_list("pk", flat=True)
