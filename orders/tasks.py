"""Timed work on orders, run by Celery (beat schedules it; see the admin)."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def sweep_deadlines() -> int:
    """The deadline sweep: every process-step deadline is checked here. Safe to run twice."""
    marked = services.mark_overdue_steps()
    logger.info("deadline sweep: %d order(s) newly late", marked)
    return marked
