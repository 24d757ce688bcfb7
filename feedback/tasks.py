"""Timed work on receipts, returns and surveys, run by Celery (beat schedules receipts
hourly, see feedback/0002, and surveys every 15 minutes, see feedback/0013)."""

import logging

from celery import shared_task

from . import return_goods, services, surveys

logger = logging.getLogger(__name__)


@shared_task
def auto_confirm_receipts() -> int:
    """Remind customers who have not confirmed receipt, and count receipt as confirmed
    for delivered orders left without an answer past the receipt step's target time;
    remind customers who have not sent back the goods of an approved return. Safe to
    run twice or on two workers at once (see services.auto_confirm_receipts and
    return_goods.remind_senders)."""
    reminded = services.send_receipt_reminders()
    confirmed = services.auto_confirm_receipts()
    senders = return_goods.remind_senders()
    logger.info(
        "receipts: %d reminder(s) recorded, %d confirmed automatically; returns: %d "
        "reminder(s) to send the goods",
        reminded,
        confirmed,
        senders,
    )
    return confirmed


@shared_task
def send_surveys() -> int:
    """Step 8's timed work (beat: every 15 minutes; see feedback/0013): each received
    order's survey once, one reminder, and late follow-ups escalated. Safe to run twice
    or on two workers at once (see feedback.surveys)."""
    sent = surveys.send_surveys()
    reminded = surveys.remind_surveys()
    escalated = surveys.escalate_follow_ups()
    logger.info(
        "surveys: %d sent, %d reminded, %d follow-up(s) escalated", sent, reminded, escalated
    )
    return sent
