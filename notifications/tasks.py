"""Celery tasks of the notification channels: thin, retried only when the message provably did not arrive.
A send that may have arrived comes back "uncertain" (logged and counted, never retried): at most once."""

from __future__ import annotations

import logging

from celery import shared_task

from core.tasks import retry_later
from notifications.email import EmailRefused, EmailTransient
from notifications.telegram import TelegramTransient, telegram_send_message

logger = logging.getLogger(__name__)


# Acknowledged when a worker takes them (acks_late off, against the project's default): a worker lost mid-send
# must not hand the message to another worker, which would send it again. At most once: such a loss drops it.
@shared_task(name="notifications.telegram_send", bind=True, max_retries=5, acks_late=False)
def telegram_message_send_task(self, chat_id: int, text: str) -> str:
    try:
        return telegram_send_message(chat_id, text)  # "uncertain" is an outcome, not an error: never retried
    except TelegramTransient as exc:  # no connection was made, or 429: it did not arrive
        return retry_later(self, exc, exc.retry_after or min(2**self.request.retries * 5, 300))


@shared_task(name="notifications.email_send", bind=True, max_retries=6, acks_late=False)
def notification_email_task(self, notification_id: int) -> str:
    from notifications.services import notification_email  # the services module enqueues this task

    try:
        return notification_email(notification_id)
    except EmailTransient as exc:  # server unreachable or busy (4xx), before the message ended: later
        return retry_later(self, exc, min(2**self.request.retries * 30, 1800))
    except EmailRefused as exc:  # refused for good (no such mailbox...): not retried
        logger.warning("notification %s: email refused: %s", notification_id, exc)
        return "refused"


@shared_task(name="notifications.newsletter_confirmation", bind=True, max_retries=6)
def newsletter_confirmation_task(self, subscription_id: int, stamp: int) -> str:
    from notifications.newsletter import newsletter_confirmation_send  # the newsletter module enqueues this task

    try:
        return newsletter_confirmation_send(subscription_id, stamp)
    except EmailTransient as exc:
        return retry_later(self, exc, min(2**self.request.retries * 30, 1800))
    except EmailRefused as exc:
        logger.warning("newsletter confirmation %s: email refused: %s", subscription_id, exc)
        return "refused"


@shared_task(name="notifications.broadcast_run", acks_late=True)
def broadcast_run_task(broadcast_id: int) -> dict:
    # Safe to run twice: every delivery is claimed before it is sent (notifications.broadcasts).
    from notifications.broadcasts import broadcast_run  # the broadcasts module enqueues this task

    report = broadcast_run(broadcast_id)
    return {"recipients": report.recipients, "sent": report.sent, "blocked": report.blocked, "failed": report.failed,
            "uncertain": report.uncertain}  # fmt: skip
