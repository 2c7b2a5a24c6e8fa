"""Outer middlewares, run before any router: who is this, and are they going too fast. And one inner middleware,
run once a handler is chosen: is the feature behind it switched on."""

from __future__ import annotations

from datetime import timedelta

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.flags import get_flag
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from asgiref.sync import sync_to_async
from django.conf import settings

from core.features import FEATURES, FeatureDisabled, feature_require
from core.ratelimit import rate_count
from core.text import tg_html, unstorable
from notifications.services import bot_user_seen
from telegram_bot import services, texts
from telegram_bot.access import MUTED, community, is_admin

UNSTORABLE = "That message contains characters I can't use. Please type it again."


class RateLimit(BaseMiddleware):
    """TELEGRAM_COMMANDS_PER_MINUTE per user (the site's rate limiter, shared by every bot process); a message
    with text no database can store (NUL, lone surrogates) is answered here and goes no further."""

    async def __call__(self, handler, event, data):
        user = getattr(event, "from_user", None)
        if user is None:
            return await handler(event, data)
        if isinstance(event, Message) and unstorable(event.text or ""):
            await event.answer(UNSTORABLE)
            return None
        if (
            isinstance(event, Message)
            and event.chat.type != ChatType.PRIVATE
            and not (event.text or "").startswith("/")
        ):
            return await handler(event, data)  # group chatter is not a command: the flood guard's business
        if not await sync_to_async(_allow)(user.id):
            if isinstance(event, Message):
                await event.answer("Easy there! You're sending commands too fast; try again in a minute. 🐐")
            elif isinstance(event, CallbackQuery):
                await event.answer("Too fast, try again in a minute.", show_alert=False)
            return None
        await sync_to_async(bot_user_seen)(user.id, user.username or "", user.first_name or "")
        return await handler(event, data)


def _allow(telegram_id: int) -> bool:
    """The site's limiter (django-ratelimit, the shared cache), keyed by Telegram id. No cache, no limit: better
    than no bot."""
    count = rate_count("telegram-commands", str(telegram_id), f"{settings.TELEGRAM_COMMANDS_PER_MINUTE}/m")
    return count is None or count <= settings.TELEGRAM_COMMANDS_PER_MINUTE


class FloodGuard(BaseMiddleware):
    """In the community group: a member who sends TELEGRAM_FLOOD_MESSAGES within TELEGRAM_FLOOD_SECONDS is muted
    once for TELEGRAM_FLOOD_MUTE_MINUTES (admins are never muted), recorded in the audit log."""

    async def __call__(self, handler, event, data):
        user = getattr(event, "from_user", None)
        if not isinstance(event, Message) or user is None or user.is_bot or not community(event.chat.id):
            return await handler(event, data)
        if not await sync_to_async(services.flood_check)(event.chat.id, user.id):
            return await handler(event, data)
        bot: Bot = data["bot"]
        if await is_admin(bot, event.chat.id, user.id):
            return await handler(event, data)
        minutes = settings.TELEGRAM_FLOOD_MUTE_MINUTES
        await bot.restrict_chat_member(event.chat.id, user.id, permissions=MUTED, until_date=timedelta(minutes=minutes))
        await sync_to_async(services.moderation_record)(
            "telegram.flood_mute", chat_id=event.chat.id, member_id=user.id, member_name=user.full_name,
            admin_id=None, admin_name="", minutes=minutes,
        )  # fmt: skip
        await event.answer(
            tg_html("🤫 {} is muted for {} minutes: too many messages at once.", user.full_name, minutes)
        )
        return None


class FeatureGate(BaseMiddleware):
    """A command or button registered with `flags={"feature": name}` runs only while that feature is switched on
    (`core.features`: the switch that answers the site's pages and API with 503); otherwise the sender is told it
    is off for now and nothing else happens. One gate for every handler, so none can forget it."""

    async def __call__(self, handler, event, data):
        name = get_flag(data, "feature")
        if name is None:
            return await handler(event, data)
        try:
            await sync_to_async(feature_require)(name)
        except FeatureDisabled:
            text = texts.feature_off_text(FEATURES[name].label)
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
            else:
                await event.answer(text)
            return None
        return await handler(event, data)
