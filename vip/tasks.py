"""Celery tasks of the rewards app: thin, safe to run twice."""

from celery import shared_task

from vip.services import bonus_code_announce


@shared_task(name="vip.bonus_code_announce")
def bonus_code_announce_task(code_id: int) -> int:
    # Each player is told once (a notification dedupe key), so a re-run tells nobody twice.
    return bonus_code_announce(code_id)
