"""Celery tasks of the bot: handling a webhook update away from the HTTP request."""

from __future__ import annotations

import logging
import threading

from asgiref.sync import async_to_sync
from celery import shared_task
from django.db import connection

logger = logging.getLogger(__name__)


# Acknowledged when a worker takes it: an update handed again to another worker after a lost one would send its
# replies twice (at most once: such a loss drops the update, and the user asks again).
@shared_task(name="telegram_bot.update_handle", acks_late=False)
def telegram_update_task(update: dict) -> None:
    # Imported here, not at the top: aiogram's types take seconds to import (measured: 4.3 s of a 7.5 s
    # `manage.py check`), and every process that loads the URLconf imports this module through the webhook view.
    # Only a process that handles an update pays for it, once.
    from telegram_bot.bot import update_handle

    try:
        async_to_sync(update_handle)(update)
    except Exception:  # a handler bug is logged; retrying would repeat whatever the handler already did
        logger.exception("telegram: update %s failed", update.get("update_id"))


def update_handle_later(update: dict) -> None:
    """Hand an update to a worker; in embedded mode (tasks run in-process) to a thread, so the webhook still
    answers at once."""
    if not telegram_update_task.app.conf.task_always_eager:
        telegram_update_task.delay(update)
        return

    def run() -> None:
        try:
            telegram_update_task.apply(args=(update,))
        finally:
            connection.close()

    threading.Thread(target=run, name=f"telegram-update-{update.get('update_id')}", daemon=True).start()
