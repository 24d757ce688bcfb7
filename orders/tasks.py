"""Timed work on orders, run by Celery (beat schedules it; see the admin).

The tasks are idempotent and acknowledged late, after they ran; with
``reject_on_worker_lost`` a task whose worker died is handed to another worker
instead of being dropped, as the Celery docs recommend for such work.
"""

import logging

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import emails, services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_deadlines() -> int:
    """The deadline sweep: every process-step deadline is checked here. Safe to run twice.

    It first re-queues customer emails that nobody is sending (for example because the
    broker was down when the order was placed, or the worker died mid-send); beat runs
    it every minute, so such an email goes out a couple of minutes late, not later.
    """
    requeue_unsent_emails()
    marked = services.mark_overdue_steps()
    escalated = services.escalate_overdue_follow_ups()
    logger.info(
        "deadline sweep: %d order(s) newly late, %d follow-up(s) escalated", marked, escalated
    )
    return marked


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_unsent_emails() -> int:
    """Queue a send for each email recorded over O2D_EMAIL_REQUEUE_AFTER_SECONDS ago
    that is unsent and unclaimed (``emails.unsent``). A worker still sending holds a
    live claim, so its email is not queued again; and were it queued, the claim stops
    the second send."""
    ids = list(emails.unsent())
    for notification_id in ids:
        send_customer_email.delay(notification_id)
    if ids:
        logger.warning("re-queued %d unsent email(s): %s", len(ids), ids[:20])
    return len(ids)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # Safe to retry whole: before the send a database error leaves at most a claim
    # (which stops a second send until its lease runs out), and after the send
    # deliver() turns every error into NotBooked.
    autoretry_for=emails.DATABASE_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=50,
    soft_time_limit=emails.SEND_SOFT_TIME_LIMIT,
    time_limit=emails.SEND_TIME_LIMIT,
)
def send_customer_email(self, notification_id: int, sent_at: str | None = None) -> bool:
    """Send one recorded customer email. Transient SMTP errors are retried when the
    claim's backoff is due; an email sent but not yet recorded (the database went away)
    is retried with ``sent_at``, which only records it and never sends it again."""
    try:
        return emails.deliver(notification_id, sent_at=parse_datetime(sent_at or ""))
    except emails.NotBooked as error:
        logger.warning("%s; retrying the bookkeeping only", error)
        raise self.retry(
            args=(notification_id,),
            kwargs={"sent_at": error.sent_at.isoformat()},
            countdown=min(5 * 2**self.request.retries, 60),
        ) from error
    except emails.SEND_ERRORS as error:
        raise self.retry(exc=error, countdown=emails.next_attempt_in(notification_id)) from error


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_review_packs() -> int:
    """Every morning: the review packs of the week and the month that have just ended,
    produced and emailed to the managers once each (``orders.review.delivery``)."""
    from .review.delivery import send_due_packs

    sent = send_due_packs()
    logger.info("review packs: %d sent", sent)
    return sent
