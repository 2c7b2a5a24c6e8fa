"""Celery tasks of the notification channels: thin, retried only for errors worth retrying."""

from __future__ import annotations

import logging

from celery import shared_task

from core.tasks import retry_later
from notifications.email import EmailRefused, EmailTransient
from notifications.telegram import TelegramTransient, telegram_send_message

logger = logging.getLogger(__name__)


@shared_task(name="notifications.telegram_send", bind=True, max_retries=5)
def telegram_message_send_task(self, chat_id: int, text: str) -> str:
    try:
        return telegram_send_message(chat_id, text)
    except TelegramTransient as exc:
        return retry_later(self, exc, exc.retry_after or min(2**self.request.retries * 5, 300))


@shared_task(name="notifications.email_send", bind=True, max_retries=6)
def notification_email_task(self, notification_id: int) -> str:
    from notifications.services import notification_email  # the services module enqueues this task

    try:
        return notification_email(notification_id)
    except EmailTransient as exc:  # server down or busy: later
        return retry_later(self, exc, min(2**self.request.retries * 30, 1800))
    except EmailRefused as exc:  # refused for good (no such mailbox...): not retried
        logger.warning("notification %s: email refused: %s", notification_id, exc)
        return "refused"


@shared_task(name="notifications.broadcast_run", acks_late=True)
def broadcast_run_task(broadcast_id: int) -> dict:
    # Safe to run twice: every delivery is claimed before it is sent (notifications.broadcasts).
    from notifications.broadcasts import broadcast_run  # the broadcasts module enqueues this task

    report = broadcast_run(broadcast_id)
    return {"recipients": report.recipients, "sent": report.sent, "blocked": report.blocked, "failed": report.failed}
