"""Timed work on receipts, run by Celery (beat schedules it; see feedback/0002)."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def auto_confirm_receipts() -> int:
    """Remind customers who have not confirmed receipt, and count receipt as confirmed
    for delivered orders left without an answer past the receipt step's target time.
    Safe to run twice or on two workers at once (see services.auto_confirm_receipts)."""
    reminded = services.send_receipt_reminders()
    confirmed = services.auto_confirm_receipts()
    logger.info(
        "receipts: %d reminder(s) recorded, %d confirmed automatically", reminded, confirmed
    )
    return confirmed
