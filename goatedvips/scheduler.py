"""The in-process scheduler of embedded mode: runs CELERY_BEAT_SCHEDULE without a beat or a worker.

It is the same schedule and the same task functions as the scaled topology (Celery beat + workers); only the
transport differs. Jobs run one at a time on a background thread, so a slow job never overlaps itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from celery.schedules import crontab, maybe_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    task: str
    schedule: object
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    last_run_at: datetime | None = None
    runs: int = 0
    failures: int = 0


class EmbeddedScheduler:
    def __init__(self, beat_schedule: dict | None = None, tick_seconds: float | None = None):
        from goatedvips.celery import app

        # autodiscover_tasks() is lazy: a worker imports the tasks modules when it starts; a plain process
        # (`manage.py serve`) must do it here or no scheduled task is registered.
        app.autodiscover_tasks(force=True)
        self.app = app
        beat_schedule = settings.CELERY_BEAT_SCHEDULE if beat_schedule is None else beat_schedule
        self.tick_seconds = tick_seconds or settings.EMBEDDED_SCHEDULER_TICK_SECONDS
        self.jobs = [
            Job(
                name=name,
                task=entry["task"],
                schedule=maybe_schedule(entry["schedule"]),
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
            )
            for name, entry in beat_schedule.items()
        ]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due_jobs(self) -> list[Job]:
        due = []
        for job in self.jobs:
            if job.last_run_at is None and isinstance(job.schedule, crontab):
                job.last_run_at = timezone.now()  # a calendar job waits for its time (beat does the same)
            # An interval job that never ran is due at once, like Celery beat on a fresh start.
            if job.last_run_at is None or job.schedule.is_due(job.last_run_at).is_due:
                due.append(job)
        return due

    def run_job(self, job: Job) -> None:
        job.last_run_at = timezone.now()
        started = time.monotonic()
        try:
            self.app.tasks[job.task].apply(args=job.args, kwargs=job.kwargs, throw=True)
            job.runs += 1
            logger.debug("scheduler: %s ran in %.0f ms", job.name, (time.monotonic() - started) * 1000)
        except Exception:
            job.failures += 1
            logger.exception("scheduler: job %s (%s) failed", job.name, job.task)
        finally:
            close_old_connections()

    def run_pending(self) -> int:
        jobs = self.due_jobs()
        for job in jobs:
            if self._stop.is_set():
                break
            self.run_job(job)
        return len(jobs)

    def _loop(self) -> None:
        logger.info(
            "embedded scheduler started with %d job(s): %s", len(self.jobs), ", ".join(j.name for j in self.jobs)
        )
        while not self._stop.is_set():
            self.run_pending()
            self._stop.wait(self.tick_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="embedded-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
