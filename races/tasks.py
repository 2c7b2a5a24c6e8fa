"""Celery tasks of the races app: thin wrappers around services, safe to run twice."""

from celery import shared_task

from races.services import lifecycle
from races.services.statements import monthly_statements_send
from races.services.sync import sync_wagers


@shared_task(name="races.race_tick")
def race_tick_task() -> dict:
    report = lifecycle.race_tick()
    return {"started": report.started, "finalized": report.finalized}


@shared_task(name="races.race_winners_notify")
def race_winners_notify_task(race_id: int) -> int:
    return lifecycle.race_winners_notify(race_id)


@shared_task(name="races.sync_wagers")
def sync_wagers_task() -> dict:
    # A failed sync is a normal outcome (logged in TransformationLog), not a task error to retry: the next
    # scheduled run is the retry.
    result = sync_wagers()
    return {"ok": result.ok, "skipped": result.skipped, "error": result.error, **result.counts()}


@shared_task(name="races.monthly_statements")
def monthly_statements_task() -> int:
    # Once per player and month (an email log key), so a second run on the same day sends nothing again.
    return monthly_statements_send()


@shared_task(name="races.feed_token_check")
def feed_token_check_task() -> list[str]:
    from races.feed.credentials import feed_token_expiry_warn

    return feed_token_expiry_warn()
