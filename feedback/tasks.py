"""Timed work on receipts and returns, run by Celery (beat schedules it hourly; see
feedback/0002)."""

import logging

from celery import shared_task

from . import return_goods, services

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
