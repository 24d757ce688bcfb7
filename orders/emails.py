"""Customer emails: rendered in the customer's language, HTML and plain text, sent by
a Celery worker after the transaction that recorded them has committed.

Each email is sent once: a worker claims the send for a lease (``claimed_until``)
with a conditional UPDATE, sends, then books ``sent_at``, retrying that bookkeeping
over a lost database connection. A claim left by a dead worker runs out and the sweep
re-queues the email; the resend carries the same Message-ID, so mail systems can
recognise it (SMTP offers no way to know whether a send cut off mid-way arrived).
"""

import logging
import smtplib
import time
from contextlib import suppress
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from . import links
from .models import Notification
from .selectors import masked_first_name

logger = logging.getLogger(__name__)

# Sends per email, counting those cut off by a dead worker. With RETRY_DELAY_MAX this
# keeps trying through about an hour of SMTP outage.
MAX_ATTEMPTS = 16
# Backoff after a failed send: 30 s, doubling, at most 5 minutes. Kept below the Redis
# broker's visibility timeout (o2d/settings.py): a retry waiting longer than that
# would be delivered to a second worker.
RETRY_DELAY = 30
RETRY_DELAY_MAX = 300
# The task's limits (orders.tasks) and the SMTP socket timeout keep a live send well
# inside the claim's lease, so a claim older than the lease belongs to a dead worker.
SMTP_TIMEOUT = 20
SEND_SOFT_TIME_LIMIT = 60
SEND_TIME_LIMIT = 90
CLAIM_LEASE = timedelta(minutes=2)
# Pauses between tries of the bookkeeping after a send (seconds).
BOOKING_RETRY_DELAYS = (0.2, 1.0, 3.0)

# A lost or broken database connection (psycopg2 reports both kinds).
DATABASE_ERRORS = (OperationalError, InterfaceError)
# What a failed send raises and the task retries (SMTPException is an OSError).
SEND_ERRORS = (smtplib.SMTPException, OSError)


class NotBooked(Exception):
    """The email was sent but ``sent_at`` could not be recorded: the caller must retry
    the bookkeeping only (``deliver(..., sent_at=...)``), never the send."""

    def __init__(self, notification_id, sent_at):
        super().__init__(f"email {notification_id} was sent at {sent_at} but not recorded")
        self.notification_id = notification_id
        self.sent_at = sent_at


def message_id(notification: Notification) -> str:
    """The email's Message-ID, the same for every send of this notification, so a
    resend can be recognised. The hash (keyed with SECRET_KEY) includes the order's
    secret token, so ids never repeat across databases and reveal nothing."""
    digest = salted_hmac(
        "orders.emails.message_id",
        f"{notification.pk}:{notification.order.public_token}:{notification.kind}"
        f":{notification.key}",
    ).hexdigest()[:20]
    return f"<o2d-notification-{notification.pk}.{digest}@{_message_id_domain()}>"


def _message_id_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    return domain or urlsplit(settings.SITE_URL).hostname or str(DNS_NAME)


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th send failed."""
    return min(RETRY_DELAY * 2 ** max(attempts - 1, 0), RETRY_DELAY_MAX)


def render_notification(notification: Notification) -> EmailMultiAlternatives:
    order = notification.order
    # Written to the person who placed the order, as they typed their details on it
    # (not to the customer it is filed under, who may be someone else).
    name = order.contact_name or order.customer.name
    with translation.override(
        notification.language or order.contact_language or order.customer.language
    ):
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "greeting_name": masked_first_name(name).rstrip("*") or name,
            "customer_name": name,
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
            headers={"Message-ID": message_id(notification)},
        )
        message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return message


def deliver(notification_id: int, *, sent_at=None) -> bool:
    """Send one recorded email unless it was sent already or someone else is sending
    it. Returns True when this call sent it.

    The message is rendered first (the only reads), then the send is claimed with a
    conditional UPDATE on ``attempts`` that also requires no live claim
    (``claimed_until`` unset or past) and sets a new lease: two workers holding the
    same job never both send it, and a claim of a dead worker is taken over once its
    lease ran out. The SMTP call happens outside any transaction. After it, booking
    ``sent_at`` is retried over a lost connection; if that still fails, NotBooked
    carries the send time so that the caller retries the booking only, with
    ``sent_at``. A failed send (or an email that fails to render) records its error,
    holds the claim until the retry is due (``next_attempt_in``) and raises the error
    so the task can retry; a database error before the claim is raised as it is.
    """
    if sent_at is not None:
        _book(notification_id, sent_at)
        return False
    notification = Notification.objects.select_related("order__customer").get(pk=notification_id)
    if notification.sent_at is not None or notification.attempts >= MAX_ATTEMPTS:
        return False
    now = timezone.now()
    if notification.claimed_until is not None and notification.claimed_until > now:
        logger.info(
            "email %s is claimed until %s; not sending", notification_id, notification.claimed_until
        )
        return False
    try:
        message = render_notification(notification)
    except DATABASE_ERRORS:
        raise  # nothing claimed yet: the task simply retries
    except Exception as error:
        # A fault of the email itself counts as an attempt, so it is not re-queued forever.
        if _claim(notification, now, hold=CLAIM_LEASE):
            _record_failure(notification.pk, error, notification.attempts + 1)
        raise
    if not _claim(notification, now, hold=CLAIM_LEASE):
        return False
    attempt = notification.attempts + 1
    try:
        message.connection = get_connection(timeout=settings.EMAIL_TIMEOUT or SMTP_TIMEOUT)
        message.send()
    except Exception as error:
        _record_failure(notification.pk, error, attempt)
        raise
    _book(notification.pk, timezone.now())
    return True


def _claim(notification, now, *, hold) -> bool:
    """Take the next attempt if no one else did since ``notification`` was read and no
    live claim stands; the claim holds for ``hold``."""
    return bool(
        Notification.objects.filter(
            pk=notification.pk, sent_at__isnull=True, attempts=notification.attempts
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(attempts=F("attempts") + 1, claimed_until=now + hold)
    )


def next_attempt_in(notification_id: int) -> float:
    """Seconds until the claim held after a failed send runs out (when to retry)."""
    claimed_until = (
        Notification.objects.filter(pk=notification_id)
        .values_list("claimed_until", flat=True)
        .first()
    )
    if claimed_until is None:
        return float(RETRY_DELAY)
    return max((claimed_until - timezone.now()).total_seconds(), 1.0)


def _book(notification_id, sent_at):
    """Record the send. Raises NotBooked when the database stays out of reach."""
    try:
        _retry_on_lost_connection(
            lambda: Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(
                sent_at=sent_at, claimed_until=None, last_error=""
            ),
            what=f"recording email {notification_id} as sent",
        )
    except Exception as error:
        # Whatever went wrong, the mail has left: never let it be sent again for this.
        raise NotBooked(notification_id, sent_at) from error


def _record_failure(notification_id, error, attempt):
    """Keep the error and hold our claim (``attempt``, unless someone took it over)
    until the retry is due, so the sweep does not re-queue the email meanwhile. Best
    effort: the send's error is what counts."""
    retry_at = timezone.now() + timedelta(seconds=retry_delay(attempt))
    try:
        _retry_on_lost_connection(
            lambda: Notification.objects.filter(
                pk=notification_id, sent_at__isnull=True, attempts=attempt
            ).update(last_error=repr(error)[:2000], claimed_until=retry_at),
            what=f"recording the failed send of email {notification_id}",
        )
    except DATABASE_ERRORS:
        logger.warning("could not record the failed send of email %s", notification_id)


def _retry_on_lost_connection(operation, *, what):
    """Run ``operation``; on a lost database connection, close it and try again after
    each of the BOOKING_RETRY_DELAYS pauses. Inside a transaction there is nothing to
    retry (the transaction is gone with the connection)."""
    pauses = list(BOOKING_RETRY_DELAYS)
    while True:
        try:
            return operation()
        except DATABASE_ERRORS as error:
            if connection.in_atomic_block or not pauses:
                raise
            logger.warning("database error while %s, reconnecting: %s", what, error)
            with suppress(Exception):
                connection.close()
            time.sleep(pauses.pop(0))


def unsent(older_than=None, now=None):
    """Emails recorded at least ``older_than`` ago (default:
    O2D_EMAIL_REQUEUE_AFTER_SECONDS) and not sent that no one is sending: never
    claimed (the broker was down, or the task was lost), or claimed by a worker that
    died and whose lease ran out, or whose retry after an SMTP error is due."""
    now = now or timezone.now()
    if older_than is None:
        older_than = timedelta(seconds=settings.O2D_EMAIL_REQUEUE_AFTER_SECONDS)
    return (
        Notification.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, created_at__lt=now - older_than
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .values_list("pk", flat=True)
    )
