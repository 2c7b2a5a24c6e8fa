"""Outgoing Telegram messages from the site (race won, verification decided, ticket replies, staff alerts)."""

from __future__ import annotations

import logging

import httpx
from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


class TelegramTransient(Exception):
    """Worth retrying: network trouble, 5xx, or 429 (with Telegram's retry_after)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def telegram_send_message(chat_id: int, text: str) -> str:
    """Send one message. Returns "sent", "blocked" (403; the user is marked) or "gone" (400, e.g. chat not found).
    Raises TelegramTransient for errors worth retrying."""
    from telegram_bot.services import bot_user_blocked

    if not settings.TELEGRAM_BOT_TOKEN:
        return "disabled"
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
    try:
        payload = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        response = httpx.post(url, json={**payload, "link_preview_options": {"is_disabled": True}}, timeout=10)
    except httpx.HTTPError as exc:
        raise TelegramTransient(f"network error: {exc}") from exc
    if response.status_code == 200:
        return "sent"
    try:
        body = response.json()
    except ValueError:
        body = {}
    description = str(body.get("description", ""))[:200]
    if response.status_code == 429:
        raise TelegramTransient("rate limited", (body.get("parameters") or {}).get("retry_after"))
    if response.status_code >= 500:
        raise TelegramTransient(f"HTTP {response.status_code}")
    if response.status_code == 403:
        bot_user_blocked(chat_id)
        logger.info("telegram: chat %s blocked the bot (%s)", chat_id, description)
        return "blocked"
    logger.warning("telegram: message to %s refused: HTTP %s %s", chat_id, response.status_code, description)
    return "gone"


@shared_task(name="telegram_bot.send_message", bind=True, max_retries=5)
def telegram_message_send_task(self, chat_id: int, text: str) -> str:
    try:
        return telegram_send_message(chat_id, text)
    except TelegramTransient as exc:
        countdown = exc.retry_after or min(2**self.request.retries * 5, 300)
        raise self.retry(exc=exc, countdown=countdown) from exc
