"""Finance's timed work, run by Celery (beat schedules it; see finance/0003)."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalate_closing_requests() -> int:
    """Escalate to the managers the closing requests left waiting past the closing
    step's target time. Safe to run twice or on two workers at once (each request is
    claimed with a conditional UPDATE, once per hand-off)."""
    escalated = services.escalate_closing_requests()
    logger.info("closing requests: %d escalated", escalated)
    return escalated
