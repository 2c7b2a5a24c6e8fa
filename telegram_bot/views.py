"""The Telegram webhook (the Login Widget callback is an accounts view: it signs a site user in)."""

from __future__ import annotations

import hmac
import json
import logging

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telegram_bot.bot import bot_create, dispatcher_create

logger = logging.getLogger(__name__)
MAX_UPDATE_BYTES = 1_000_000
_runtime: dict = {}


def _dispatcher():
    """One Dispatcher (routers, middleware) per process, built on first use."""
    if "dp" not in _runtime:
        _runtime["dp"] = dispatcher_create()
    return _runtime["dp"]


async def _handle(update: dict) -> None:
    # A Bot per update: its HTTP session belongs to the event loop that runs this update.
    bot = bot_create()
    try:
        await _dispatcher().feed_raw_update(bot, update)
    finally:
        await bot.session.close()


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Telegram POSTs updates here. A wrong secret is 401; anything else is 200 so Telegram never retries in a storm."""
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not settings.TELEGRAM_BOT_TOKEN or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"ok": False}, status=401)
    if len(request.body) > MAX_UPDATE_BYTES:
        logger.warning("telegram webhook: update of %s bytes ignored", len(request.body))
        return JsonResponse({"ok": True})
    try:
        update = json.loads(request.body)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            raise ValueError("not an update object")
    except ValueError as exc:
        logger.warning("telegram webhook: malformed update ignored (%s)", exc)
        return JsonResponse({"ok": True})
    try:
        async_to_sync(_handle)(update)
    except Exception:  # a handler bug must not make Telegram redeliver the update forever
        logger.exception("telegram webhook: update %s failed", update.get("update_id"))
    return JsonResponse({"ok": True})
