"""The aiogram 3 bot: the Bot and Dispatcher factories and the webhook's entry. The routers, one per audience,
are in `handlers/`; the middlewares (rate limit, flood guard) in `middlewares.py`. Handlers only parse input, call
one service or selector of the other apps, and answer with a text from `texts.py`."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from django.conf import settings

from telegram_bot.handlers import fallback, group, players, staff
from telegram_bot.middlewares import FeatureGate, FloodGuard, RateLimit


def bot_create(token: str | None = None) -> Bot:
    # aiogram never repeats a call: a reply whose answer times out (TELEGRAM_SEND_TIMEOUT) may have arrived, and
    # the handler's error is logged, not retried (at most once, docs/notifications.md "Delivery states").
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.TELEGRAM_API_URL), timeout=settings.TELEGRAM_SEND_TIMEOUT
    )
    return Bot(
        token or settings.TELEGRAM_BOT_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def dispatcher_create() -> Dispatcher:
    """A new Dispatcher with fresh routers (a router can belong to one dispatcher only)."""
    dp = Dispatcher()
    limiter = RateLimit()
    dp.message.outer_middleware(FloodGuard())
    dp.message.outer_middleware(limiter)
    dp.callback_query.outer_middleware(limiter)
    gate = FeatureGate()  # inner: it reads the chosen handler's flags; every router inherits it
    dp.message.middleware(gate)
    dp.callback_query.middleware(gate)
    # Order matters: the group's moderation commands first, the fallback (anything else) last.
    dp.include_routers(group.router_create(), staff.router_create(), players.router_create(), fallback.router_create())
    return dp


_runtime: dict = {}


def _dispatcher() -> Dispatcher:
    """One Dispatcher (routers, middleware) per process, built on first use."""
    if "dp" not in _runtime:
        _runtime["dp"] = dispatcher_create()
    return _runtime["dp"]


async def update_handle(update: dict) -> None:
    """Handle one raw update (from the webhook). A Bot per update: its HTTP session belongs to this event loop."""
    bot = bot_create()
    try:
        await _dispatcher().feed_raw_update(bot, update)
    finally:
        await bot.session.close()
