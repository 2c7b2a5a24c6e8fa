"""Celery tasks of the notification channels: thin, retried only for errors worth retrying."""

from __future__ import annotations

from celery import shared_task

from notifications.telegram import TelegramTransient, telegram_send_message


@shared_task(name="notifications.telegram_send", bind=True, max_retries=5)
def telegram_message_send_task(self, chat_id: int, text: str) -> str:
    try:
        return telegram_send_message(chat_id, text)
    except TelegramTransient as exc:
        countdown = exc.retry_after or min(2**self.request.retries * 5, 300)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="notifications.broadcast_run", acks_late=True)
def broadcast_run_task(broadcast_id: int) -> dict:
    # Safe to run twice: every delivery is claimed before it is sent (notifications.services.broadcast_run).
    from notifications.services import broadcast_run  # the services module enqueues this task

    report = broadcast_run(broadcast_id)
    return {"recipients": report.recipients, "sent": report.sent, "blocked": report.blocked, "failed": report.failed}
