"""Helpers for Celery tasks."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def retry_later(task, exc: Exception, countdown: float):
    """Retry `task` after a transient failure (`exc`).

    In a worker: again in `countdown` seconds, up to the task's max_retries (then the task fails with `exc`).
    In process (embedded mode, tests: tasks run where they are sent): there is no "later", so Celery's eager retry
    runs it again at once; once the retries are used up the failure is logged, never raised into the request
    or command that queued the task. Use as `return retry_later(self, exc, countdown)`.
    """
    if not task.request.is_eager:
        raise task.retry(exc=exc, countdown=countdown)
    if task.request.retries >= task.max_retries:
        logger.warning("%s: gave up after %s tries: %s", task.name, task.request.retries + 1, exc)
        return "failed"
    return task.retry(exc=exc, countdown=0, throw=False)  # Celery's apply() runs the returned retry now
