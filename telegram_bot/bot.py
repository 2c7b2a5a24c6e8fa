"""The aiogram 3 bot: Bot + Dispatcher factories, routers per topic. Handlers only parse input, call one service
or selector of the other apps, and answer with a text from `texts.py`."""

from __future__ import annotations

import logging
import time

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from core.errors import ServiceError
from core.models import AuditEntry
from core.roles import is_verification_reviewer
from core.text import tg_html, unstorable
from notifications.services import bot_user_seen
from telegram_bot import services, texts

logger = logging.getLogger(__name__)


def bot_create(token: str | None = None) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.TELEGRAM_API_URL))
    return Bot(
        token or settings.TELEGRAM_BOT_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


# --- middleware: who is this, and are they going too fast ----------------------------------------------------


UNSTORABLE = "That message contains characters I can't use. Please type it again."


class RateLimit(BaseMiddleware):
    """TELEGRAM_COMMANDS_PER_MINUTE per user (a cache window shared by every bot process); a message with text no
    database can store (NUL, lone surrogates) is answered here and goes no further."""

    async def __call__(self, handler, event, data):
        user = getattr(event, "from_user", None)
        if user is None:
            return await handler(event, data)
        if isinstance(event, Message) and unstorable(event.text or ""):
            await event.answer(UNSTORABLE)
            return None
        if not await sync_to_async(_allow)(user.id):
            if isinstance(event, Message):
                await event.answer("Easy there! You're sending commands too fast; try again in a minute. 🐐")
            elif isinstance(event, CallbackQuery):
                await event.answer("Too fast, try again in a minute.", show_alert=False)
            return None
        await sync_to_async(bot_user_seen)(user.id, user.username or "", user.first_name or "")
        return await handler(event, data)


def _allow(telegram_id: int) -> bool:
    key = f"bot:rate:{telegram_id}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=70)
        return cache.incr(key) <= settings.TELEGRAM_COMMANDS_PER_MINUTE
    except Exception:  # no cache, no limit: better than no bot
        return True


async def _reviewer(message_or_query) -> object | None:
    user = await sync_to_async(accounts_selectors.site_user_for)(message_or_query.from_user.id)
    return user if await sync_to_async(is_verification_reviewer)(user) else None


PRIVATE_ONLY = "Staff commands work only in a private chat with me (they show players' data)."


async def _staff_in_private(message: Message) -> object | None:
    """The reviewer sending a staff command, or None after telling the sender why not (not staff, or a group)."""
    actor = await _reviewer(message)
    if actor is None:
        await message.answer(NOT_STAFF)
        return None
    if message.chat.type != ChatType.PRIVATE:
        await message.answer(PRIVATE_ONLY)
        return None
    return actor


# --- player commands --------------------------------------------------------------------------------------------


async def start_with_token(message: Message, command: CommandObject) -> None:
    try:
        user = await sync_to_async(accounts_services.telegram_link_token_consume)(
            command.args or "", message.from_user.id, message.from_user.username or ""
        )
    except ServiceError as exc:
        await message.answer(tg_html("{}", exc.message))
        return
    await message.answer(tg_html("✅ Linked to your site account <b>{}</b>.\n\n", user.username) + texts.HELP)


async def start(message: Message) -> None:
    name = message.from_user.first_name or "there"
    await message.answer(tg_html("Welcome to GoatedVIPs, {}! 🐐\n\n", name) + texts.HELP)


async def help_command(message: Message) -> None:
    staff = await _reviewer(message)
    await message.answer(texts.HELP + (texts.STAFF_HELP if staff else ""))


async def verify(message: Message, command: CommandObject) -> None:
    if message.chat.type != ChatType.PRIVATE:
        await message.answer("Please send /verify in a private chat with me, not in a group.")
        return
    try:
        request = await sync_to_async(accounts_services.verification_request_create)(
            goated_name=command.args or "",
            telegram_id=message.from_user.id,
            telegram_username=message.from_user.username or "",
        )
    except ServiceError as exc:
        await message.answer(tg_html("{}", exc.message))
        return
    await message.answer(
        tg_html(
            "Thanks! Request #{} to link <b>{}</b> is waiting for staff review. I'll message you when it's decided.",
            request.pk, request.goated_name,
        )
    )  # fmt: skip


async def stats(message: Message) -> None:
    await message.answer(await sync_to_async(texts.stats_text)(message.from_user.id))


async def race(message: Message) -> None:
    await message.answer(await sync_to_async(texts.race_text)(message.from_user.id))


async def leaderboard(message: Message) -> None:
    await message.answer(await sync_to_async(texts.leaderboard_text)())


async def bonus_codes(message: Message) -> None:
    await message.answer(await sync_to_async(texts.bonus_codes_text)(message.from_user.id))


async def play(message: Message) -> None:
    await message.answer(texts.play_text())


async def join(message: Message, command: CommandObject) -> None:
    await message.answer(await sync_to_async(services.race_join_from_bot)(message.from_user.id, command.args or ""))


# --- staff commands -----------------------------------------------------------------------------------------------

NOT_STAFF = "That command is for staff. Send /help to see what I can do for you."


def _review_buttons(request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="✅ Approve", callback_data=f"verif:approve:{request_id}"),
                InlineKeyboardButton(text="❌ Reject", callback_data=f"verif:reject:{request_id}"),
            ]
        ]
    )


async def pending(message: Message) -> None:
    if await _staff_in_private(message) is None:
        return
    requests = await sync_to_async(accounts_selectors.verification_requests_pending)()
    if not requests:
        await message.answer("No verification requests are waiting. 🎉")
        return
    for r in requests:
        await message.answer(await sync_to_async(texts.request_text)(r), reply_markup=_review_buttons(r.pk))


def _request_id(raw: str | None) -> tuple[int | None, str]:
    parts = (raw or "").split(maxsplit=1)
    if not parts or not parts[0].lstrip("#").isdigit():
        return None, ""
    return int(parts[0].lstrip("#")), parts[1] if len(parts) > 1 else ""


async def _decide(actor, request_id: int, approve: bool, reason: str = "") -> tuple[str, str]:
    """Approve or reject through the accounts service; returns the outcome as (HTML, plain text)."""
    decide = accounts_services.verification_approve if approve else accounts_services.verification_reject
    kwargs = {} if approve else {"reason": reason}
    try:
        request = await sync_to_async(decide)(request_id, actor=actor, source=AuditEntry.Source.BOT, **kwargs)
    except ServiceError as exc:
        return tg_html("{}", exc.message), exc.message
    plain = f"{'✅ Approved' if approve else '❌ Rejected'} #{request.pk} ({request.goated_name})."
    return tg_html("{}", plain), plain


async def approve(message: Message, command: CommandObject) -> None:
    actor = await _staff_in_private(message)
    if actor is None:
        return
    request_id, _ = _request_id(command.args)
    if request_id is None:
        await message.answer("Usage: /approve <i>request id</i>")
        return
    await message.answer((await _decide(actor, request_id, True))[0])


async def reject(message: Message, command: CommandObject) -> None:
    actor = await _staff_in_private(message)
    if actor is None:
        return
    request_id, reason = _request_id(command.args)
    if request_id is None:
        await message.answer("Usage: /reject <i>request id</i> [reason]")
        return
    await message.answer((await _decide(actor, request_id, False, reason))[0])


async def review_button(query: CallbackQuery) -> None:
    parts = (query.data or "").split(":")
    if len(parts) != 3 or parts[1] not in ("approve", "reject") or not parts[2].isdigit():
        await query.answer("Unknown button.")
        return
    actor = await _reviewer(query)
    if actor is None or query.message is None or query.message.chat.type != ChatType.PRIVATE:
        await query.answer(NOT_STAFF if actor is None else PRIVATE_ONLY)
        return
    html, plain = await _decide(actor, int(parts[2]), parts[1] == "approve")
    await query.answer(plain[:190])
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(html)


async def broadcast(message: Message, command: CommandObject) -> None:
    actor = await _staff_in_private(message)
    if actor is None:
        return
    text = (command.args or "").strip()
    if not text:
        await message.answer("Usage: /broadcast <i>text</i> — goes to verified users who allow messages.")
        return
    key = f"tg:{message.chat.id}:{message.message_id}"
    record, created = await sync_to_async(services.broadcast_start)(
        text, actor=actor, reply_chat=message.chat.id, key=key
    )
    if not created:
        await message.answer(tg_html("Broadcast #{} was already started by this message.", record.pk))


# --- everything else ----------------------------------------------------------------------------------------------


async def anything_else(message: Message) -> None:
    if message.chat.type != ChatType.PRIVATE and not (message.text or "").startswith("/"):
        return  # group chatter is not for us
    await message.answer("I didn't get that.\n\n" + texts.HELP)


def dispatcher_create() -> Dispatcher:
    """A new Dispatcher with fresh routers (a router can belong to one dispatcher only)."""
    player, staff, fallback = Router(name="player"), Router(name="staff"), Router(name="fallback")
    player.message.register(start_with_token, CommandStart(deep_link=True))
    player.message.register(start, CommandStart())
    player.message.register(help_command, Command("help"))
    player.message.register(verify, Command("verify"))
    player.message.register(stats, Command("stats"))
    player.message.register(race, Command("race"))
    player.message.register(leaderboard, Command("leaderboard"))
    player.message.register(bonus_codes, Command("bonuscodes"))
    player.message.register(play, Command("play"))
    player.message.register(join, Command("join"))
    staff.message.register(pending, Command("pending"))
    staff.message.register(approve, Command("approve"))
    staff.message.register(reject, Command("reject"))
    staff.callback_query.register(review_button, F.data.startswith("verif:"))
    staff.message.register(broadcast, Command("broadcast"))
    fallback.message.register(anything_else)
    dp = Dispatcher()
    limiter = RateLimit()
    dp.message.outer_middleware(limiter)
    dp.callback_query.outer_middleware(limiter)
    dp.include_routers(staff, player, fallback)
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
