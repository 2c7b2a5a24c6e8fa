"""Celery tasks of the growth app: thin wrappers around its services, safe to run twice."""

from celery import shared_task

from growth.cohorts import wager_snapshots_take
from growth.services import referral_clicks_flush
from growth.visits import visit_counts_flush


@shared_task(name="growth.visit_counts_flush")
def visit_counts_flush_task() -> int:
    return visit_counts_flush()


@shared_task(name="growth.wager_snapshots")
def wager_snapshots_task() -> int:
    return wager_snapshots_take()


@shared_task(name="growth.referral_clicks_flush")
def referral_clicks_flush_task() -> int:
    return referral_clicks_flush()
