"""Timed work on orders, run by Celery (beat schedules it; see the admin)."""

import logging
import smtplib

from celery import shared_task

from . import emails, services

logger = logging.getLogger(__name__)


@shared_task
def sweep_deadlines() -> int:
    """The deadline sweep: every process-step deadline is checked here. Safe to run twice.

    It also re-queues customer emails that were recorded but never sent (for example
    because the broker was down when the order was placed).
    """
    marked = services.mark_overdue_steps()
    escalated = services.escalate_overdue_follow_ups()
    for notification_id in emails.unsent():
        send_customer_email.delay(notification_id)
    logger.info(
        "deadline sweep: %d order(s) newly late, %d follow-up(s) escalated", marked, escalated
    )
    return marked


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=emails.MAX_ATTEMPTS,
)
def send_customer_email(notification_id: int) -> bool:
    """Send one recorded customer email; transient SMTP errors are retried."""
    return emails.deliver(notification_id)
