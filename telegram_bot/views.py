"""The Telegram webhook (the Login Widget callback is an accounts view: it signs a site user in)."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from telegram_bot.tasks import update_handle_later

logger = logging.getLogger(__name__)
MAX_UPDATE_BYTES = 1_000_000
# Telegram redelivers an update it thinks was lost; one update is handled once, in every process (shared cache).
UPDATE_SEEN_SECONDS = 24 * 3600


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
    if not cache.add(f"tg:update:{update['update_id']}", 1, timeout=UPDATE_SEEN_SECONDS):
        logger.info("telegram webhook: update %s already handled; ignored", update["update_id"])
        return JsonResponse({"ok": True})
    # Answer at once: the update is handled by a worker (or, in embedded mode, a thread of this process), so a
    # slow handler never makes Telegram time out and redeliver it.
    update_handle_later(update)
    return JsonResponse({"ok": True})
