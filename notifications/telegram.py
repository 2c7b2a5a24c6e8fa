"""One message to a Telegram chat through the Bot API, and what its answer means: sent, blocked, gone, uncertain
(it may have arrived: never sent again), or TelegramTransient (it provably did not arrive: worth a retry).

At most once (docs/notifications.md, "Delivery states"): only an error that proves Telegram never took the
message is retried — no connection was made (refused, DNS, connect timeout), or Telegram answered 429. Once the
request may have reached Telegram, an answer we did not get (read timeout, dropped connection) or a 5xx (the
Bot API, or the proxy in front of it, took the request and failed somewhere we cannot see) is *uncertain*.
"""

from __future__ import annotations

import logging
import os
import threading

import httpx
from django.conf import settings
from django.utils import timezone

from core.metrics import notification_counted
from notifications.models import BotUser

logger = logging.getLogger(__name__)


class TelegramTransient(Exception):
    """Worth retrying, since the message provably did not arrive: no connection could be made, or 429 (with
    Telegram's retry_after)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def bot_user_blocked(telegram_id: int) -> None:
    """Telegram says the user blocked the bot: nothing is sent to them until they write to it again."""
    BotUser.objects.update_or_create(telegram_id=telegram_id, defaults={"blocked_at": timezone.now()})


def telegram_send_message(chat_id: int, text: str) -> str:
    """Send one message. Returns "sent", "blocked" (403; the user is marked), "gone" (400, e.g. chat not found) or
    "uncertain" (it may have arrived: the caller records that and never sends it again). Raises TelegramTransient
    only when it provably did not arrive (worth retrying). Each outcome is counted (core.metrics)."""
    try:
        outcome = _send(chat_id, text)
    except TelegramTransient:
        notification_counted("telegram", "retry")
        raise
    notification_counted("telegram", outcome)
    return outcome


# Errors raised before any byte of the request left: connecting failed (refused, DNS, connect timeout) or no
# pooled connection came free in time. Every other transport error may come after Telegram read the request.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# One HTTP client per process, shared by its threads (httpx.Client is thread-safe): a broadcast reuses one
# kept-alive connection instead of building a client — and its TLS context, ~60 ms here — for every message
# (measured in the test suite: 500 Telegram messages to a local Bot API server, 25 s → 4.5 s). Keyed by
# process id: a client made before a fork is never shared with the child.
_client: tuple[int, httpx.Client] | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            _client = (os.getpid(), httpx.Client(timeout=10))
        return _client[1]


def _send(chat_id: int, text: str) -> str:
    if not settings.TELEGRAM_BOT_TOKEN:
        return "disabled"
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
    payload = {"chat_id": chat_id, "text": text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}
    try:
        response = _http().post(url, json=payload, timeout=settings.TELEGRAM_SEND_TIMEOUT)
    except NOT_SENT as exc:  # no connection was made: the request never left
        raise TelegramTransient(f"not sent: {type(exc).__name__}: {exc}") from exc
    except httpx.HTTPError as exc:  # it may have reached Telegram (read timeout, dropped connection...)
        logger.warning("telegram: message to %s may have arrived (%s: %s); not sent again", chat_id,
                       type(exc).__name__, exc)  # fmt: skip
        return "uncertain"
    if response.status_code == 200:
        return "sent"
    try:
        body = response.json()
    except ValueError:
        body = {}
    description = str(body.get("description", ""))[:200]
    if response.status_code == 429:
        raise TelegramTransient("rate limited", (body.get("parameters") or {}).get("retry_after"))
    if response.status_code >= 500:  # taken and failed after that, by the Bot API or by the proxy before it
        logger.warning("telegram: message to %s may have arrived (HTTP %s); not sent again", chat_id,
                       response.status_code)  # fmt: skip
        return "uncertain"
    if response.status_code == 403:
        bot_user_blocked(chat_id)
        logger.info("telegram: chat %s blocked the bot (%s)", chat_id, description)
        return "blocked"
    logger.warning("telegram: message to %s refused: HTTP %s %s", chat_id, response.status_code, description)
    return "gone"
