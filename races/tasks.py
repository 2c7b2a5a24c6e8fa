"""Celery tasks of the race engine: thin wrappers around services, safe to run twice."""

from celery import shared_task

from races import lifecycle


@shared_task(name="races.race_tick")
def race_tick_task() -> dict:
    report = lifecycle.race_tick()
    return {"started": report.started, "finalized": report.finalized}


@shared_task(name="races.race_winners_notify")
def race_winners_notify_task(race_id: int) -> int:
    return lifecycle.race_winners_notify(race_id)
