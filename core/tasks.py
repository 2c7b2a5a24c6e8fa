"""Helpers for Celery tasks."""

from __future__ import annotations

import logging
import time

from core import metrics

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


# --- task metrics (core.metrics), connected by core.apps -----------------------------------------------------

_started: dict[str, float] = {}


def task_metrics_connect() -> None:
    from celery.signals import task_failure, task_postrun, task_prerun

    task_prerun.connect(_prerun, weak=False, dispatch_uid="core.metrics.prerun")
    task_postrun.connect(_postrun, weak=False, dispatch_uid="core.metrics.postrun")
    task_failure.connect(_failure, weak=False, dispatch_uid="core.metrics.failure")


def _prerun(task_id=None, task=None, **_kwargs) -> None:
    _started[task_id] = time.perf_counter()


def _postrun(task_id=None, task=None, state=None, **_kwargs) -> None:
    started = _started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    if started is not None:
        metrics.TASK_DURATION.labels(name).observe(time.perf_counter() - started)
    if state != "FAILURE":  # failures are counted by _failure
        metrics.TASKS.labels(name, (state or "unknown").lower()).inc()


def _failure(sender=None, **_kwargs) -> None:
    metrics.TASKS.labels(getattr(sender, "name", "unknown"), "failure").inc()
