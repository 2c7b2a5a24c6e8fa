import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from goatedvips.celery import app
from races.models import WagerRace
from races.tasks import race_tick_task
from tests.factories import WagerRaceFactory


@pytest.mark.django_db(transaction=True)
def test_race_tick_task_runs_on_a_real_worker_through_the_broker():
    """Through the configured broker: Redis on the PostgreSQL run, Celery's in-memory transport otherwise."""
    race = WagerRaceFactory(
        start_date=timezone.now() - timedelta(minutes=1), end_date=timezone.now() + timedelta(days=1)
    )
    app.conf.task_always_eager = False
    options = app.conf.broker_transport_options
    if app.conf.broker_url.startswith("memory"):
        # The in-memory transport looks for messages once a second (Redis pushes them); look more often.
        app.conf.broker_transport_options = {**options, "polling_interval": 0.05}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            race_tick_task.delay()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                race.refresh_from_db()
                if race.status == WagerRace.Status.LIVE:
                    break
                time.sleep(0.1)
    finally:
        app.conf.task_always_eager = True
        app.conf.broker_transport_options = options
    assert race.status == WagerRace.Status.LIVE
