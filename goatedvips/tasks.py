"""Site-wide periodic tasks."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from core.partitions import MONTHS_AHEAD, partitions_ensure

logger = logging.getLogger(__name__)


@shared_task(name="goatedvips.retention")
def retention_task() -> dict:
    from goatedvips.retention import retention_run

    # PostgreSQL: next months' partitions first (and rows waiting in a DEFAULT partition moved to their month),
    # so that retention then archives whole months. Elsewhere: nothing to do.
    partitions_ensure(now=timezone.now(), months_ahead=MONTHS_AHEAD, log=logger.info)
    return retention_run()
