"""Site-wide periodic tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="goatedvips.retention")
def retention_task() -> dict:
    from goatedvips.retention import retention_run

    return retention_run()
