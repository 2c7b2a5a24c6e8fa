from datetime import timedelta

import pytest
from celery import shared_task

from goatedvips.scheduler import EmbeddedScheduler

CALLS: list[str] = []


@shared_task(name="tests.record_call")
def record_call(label: str) -> None:
    CALLS.append(label)


@shared_task(name="tests.always_fails")
def always_fails() -> None:
    raise RuntimeError("boom")


# Jobs run real tasks that use the database, and the scheduler closes stale connections after each one.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def test_every_job_runs_once_at_start_then_when_due():
    scheduler = EmbeddedScheduler(
        {
            "fast": {"task": "tests.record_call", "schedule": 0.0, "args": ("fast",)},
            "hourly": {"task": "tests.record_call", "schedule": timedelta(hours=1), "args": ("hourly",)},
        },
        tick_seconds=0.01,
    )
    assert scheduler.run_pending() == 2
    assert scheduler.run_pending() == 1  # only the zero-interval job is due again
    assert CALLS == ["fast", "hourly", "fast"]


def test_a_calendar_job_waits_for_its_time_instead_of_running_at_start():
    from celery.schedules import crontab

    scheduler = EmbeddedScheduler(
        {"monthly": {"task": "tests.record_call", "schedule": crontab(minute=0, hour=6, day_of_month=1),
                     "args": ("monthly",)}},
        tick_seconds=0.01,
    )  # fmt: skip
    assert scheduler.run_pending() == 0
    assert CALLS == []


def test_a_failing_job_is_logged_and_does_not_stop_the_others(caplog):
    scheduler = EmbeddedScheduler(
        {
            "bad": {"task": "tests.always_fails", "schedule": 60.0},
            "good": {"task": "tests.record_call", "schedule": 60.0, "args": ("good",)},
        }
    )
    scheduler.run_pending()
    assert CALLS == ["good"]
    assert [j.failures for j in scheduler.jobs] == [1, 0]
    assert "job bad (tests.always_fails) failed" in caplog.text


def test_the_scheduler_thread_starts_and_stops_cleanly():
    scheduler = EmbeddedScheduler(
        {"tick": {"task": "tests.record_call", "schedule": 3600.0, "args": ("tick",)}}, tick_seconds=0.01
    )
    scheduler.start()
    for _ in range(200):
        if CALLS:
            break
        scheduler._stop.wait(0.01)
    scheduler.stop()
    assert CALLS == ["tick"]
    assert not scheduler._thread.is_alive()


def test_a_fresh_process_registers_every_scheduled_task():
    """`manage.py serve` imports no tasks module by itself; the scheduler must make them importable."""
    import subprocess
    import sys

    code = (
        "import django; django.setup()\n"
        "from goatedvips.scheduler import EmbeddedScheduler\n"
        "s = EmbeddedScheduler()\n"
        "missing = [j.task for j in s.jobs if j.task not in s.app.tasks]\n"
        "print('missing:', missing)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "missing: []" in out.stdout
