"""The aiogram 3 bot: Bot + Dispatcher factories, routers per topic. Handlers only parse input, call one service
or selector of the other apps, and answer with a text from `texts.py`."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from core.errors import ServiceError
from core.models import AuditEntry
from core.roles import is_verification_reviewer
from core.text import tg_html, unstorable
from notifications.services import bot_user_seen, notification_channel_set
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
    await message.answer(
        texts.HELP + (texts.STAFF_HELP if staff else ""), reply_markup=help_keyboard(message.from_user.id)
    )


# --- buttons ------------------------------------------------------------------------------------------------------
# Callback data is "<view>:<argument>:<telegram id of who asked>" (at most 64 bytes): a button answers only the
# person it was made for, and edits its own message instead of sending a new one.

LEADERBOARD_BUTTONS = [("today", "Today"), ("weekly", "Week"), ("monthly", "Month"), ("all_time", "All time")]
RACE_VIEWS = {"top": texts.NEIGHBOURS, "me": 5}  # rows either side of the player: the usual view, "Around me"
NOT_YOURS = "This button belongs to whoever asked. Send the command yourself to get your own."


def _button(text: str, view: str, argument: str, owner: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=f"{view}:{argument}:{owner}")


def help_keyboard(owner: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="🎰 Play", url=settings.REFERRAL_URL),
             InlineKeyboardButton(text="🌐 Website", url=settings.SITE_URL)],
            [_button("📊 Stats", "go", "stats", owner), _button("🏆 Leaderboard", "lb", "monthly", owner)],
            [_button("🏁 Race", "race", "top", owner), _button("🎁 Codes", "go", "codes", owner)],
        ]
    )  # fmt: skip


def leaderboard_keyboard(period: str, owner: int, page: int = 1, pages: int = 1) -> InlineKeyboardMarkup:
    periods = [
        _button(("• " if value == period else "") + label, "lb", value, owner) for value, label in LEADERBOARD_BUTTONS
    ]
    here = f"{period}.{page}"
    moves = [_button("‹ Prev", "lb", f"{period}.{page - 1}", owner)] if page > 1 else []
    moves.append(_button("🔄 Refresh", "lb", here, owner))
    if page < pages:
        moves.append(_button("Next ›", "lb", f"{period}.{page + 1}", owner))
    return InlineKeyboardMarkup(inline_keyboard=[periods, moves])


def _board_view(argument: str) -> tuple[str, int] | None:
    """ "monthly" or "monthly.3" → (period, page); None for anything else."""
    period, _, page = argument.partition(".")
    if period not in dict(LEADERBOARD_BUTTONS) or (page and not (page.isdigit() and 1 <= int(page) <= 99)):
        return None
    return period, int(page or 1)


def race_keyboard(owner: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button("🔄 Refresh", "race", "top", owner), _button("📍 Around me", "race", "me", owner)]]
    )


def website_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="🌐 Open GoatedVIPs", url=settings.SITE_URL)]]
    )


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Show the view in the button's own message; pressing Refresh on unchanged data is not an error."""
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise
        await query.answer("Already up to date.")
        return
    await query.answer()


async def view_button(query: CallbackQuery) -> None:
    parts = (query.data or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit() or query.message is None:
        await query.answer("Unknown button.")
        return
    view, argument, owner = parts[0], parts[1], int(parts[2])
    if query.from_user.id != owner:
        await query.answer(NOT_YOURS, show_alert=True)
        return
    board = _board_view(argument) if view == "lb" else None
    if board is not None:
        period, page = board
        pages = await sync_to_async(texts.leaderboard_pages)(period)
        page = min(page, pages)
        text = await sync_to_async(texts.leaderboard_text)(period, page)
        await _edit(query, text, leaderboard_keyboard(period, owner, page, pages))
    elif view == "race" and argument in RACE_VIEWS:
        text = await sync_to_async(texts.race_text)(owner, RACE_VIEWS[argument])
        await _edit(query, text, race_keyboard(owner))
    elif view == "go" and argument == "stats":
        await query.answer()
        await query.message.answer(await sync_to_async(texts.stats_text)(owner))
    elif view == "go" and argument == "codes":
        await query.answer()
        await query.message.answer(await sync_to_async(texts.bonus_codes_text)(owner))
    else:
        await query.answer("Unknown button.")


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
    text = await sync_to_async(texts.race_text)(message.from_user.id)
    await message.answer(text, reply_markup=race_keyboard(message.from_user.id))


async def leaderboard(message: Message) -> None:
    text = await sync_to_async(texts.leaderboard_text)()
    pages = await sync_to_async(texts.leaderboard_pages)("monthly")
    await message.answer(text, reply_markup=leaderboard_keyboard("monthly", message.from_user.id, 1, pages))


async def check_stats(message: Message, command: CommandObject) -> None:
    await message.answer(await sync_to_async(texts.check_stats_text)(command.args or ""))


async def website(message: Message) -> None:
    await message.answer(texts.website_text(), reply_markup=website_keyboard())


NOTIFY_USAGE = "Usage: /notify on or /notify off — race results, leads and account messages from me."


async def notify(message: Message, command: CommandObject) -> None:
    if message.chat.type != ChatType.PRIVATE:
        await message.answer("Please send /notify in a private chat with me.")
        return
    user = await sync_to_async(accounts_selectors.site_user_for)(message.from_user.id)
    if user is None:
        await message.answer("Link your site account first: Settings → Telegram on the site.")
        return
    choice = (command.args or "").strip().lower()
    if choice not in ("on", "off"):
        await message.answer(NOTIFY_USAGE)
        return
    await sync_to_async(notification_channel_set)(user, "telegram", choice == "on")
    if choice == "on":
        await message.answer("🔔 On: I'll message you about your races and your account (per your site settings).")
    else:
        await message.answer("🔕 Off: I won't message you. Send /notify on to turn it back on.")


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


# --- the community group ---------------------------------------------------------------------------------------


def community(chat_id: int) -> bool:
    return bool(settings.TELEGRAM_COMMUNITY_CHAT_ID) and chat_id == settings.TELEGRAM_COMMUNITY_CHAT_ID


async def _may_restrict(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time, never of a list: the group's owner, or an admin with the right to restrict."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status == "creator" or (
        member.status == "administrator" and bool(getattr(member, "can_restrict_members", False))
    )


async def _is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    return (await bot.get_chat_member(chat_id, user_id)).status in ("creator", "administrator")


MUTED = ChatPermissions(can_send_messages=False)
UNMUTED = ChatPermissions(
    can_send_messages=True, can_send_audios=True, can_send_documents=True, can_send_photos=True,
    can_send_videos=True, can_send_video_notes=True, can_send_voice_notes=True, can_send_polls=True,
    can_send_other_messages=True, can_add_web_page_previews=True, can_invite_users=True,
)  # fmt: skip
MUTE_MINUTES_MAX = 7 * 24 * 60
MODERATE_USAGE = "Reply to the member's message with /mute [minutes], /unmute or /ban."


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
        if await _is_admin(bot, event.chat.id, user.id):
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


async def moderate(message: Message, command: CommandObject) -> None:
    action = command.command.lower()
    if message.chat.type == ChatType.PRIVATE:
        await message.answer("Moderation works in the community group: reply to a member's message there.")
        return
    if not community(message.chat.id):
        await message.answer("I only moderate the GoatedVIPs community group.")
        return
    bot = message.bot
    if not await _may_restrict(bot, message.chat.id, message.from_user.id):
        await message.answer("Only the group's admins who may restrict members can do that.")
        return
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if target is None:
        await message.answer(MODERATE_USAGE)
        return
    if target.is_bot or await _is_admin(bot, message.chat.id, target.id):
        await message.answer("I don't restrict admins or bots.")
        return
    minutes = None
    if action == "mute":
        raw = (command.args or "60").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MUTE_MINUTES_MAX:
            await message.answer(f"Minutes must be a whole number from 1 to {MUTE_MINUTES_MAX}. " + MODERATE_USAGE)
            return
        minutes = int(raw)
        await bot.restrict_chat_member(message.chat.id, target.id, permissions=MUTED,
                                       until_date=timedelta(minutes=minutes))  # fmt: skip
        done = tg_html("🔇 {} is muted for {} minutes.", target.full_name, minutes)
    elif action == "unmute":
        await bot.restrict_chat_member(message.chat.id, target.id, permissions=UNMUTED)
        done = tg_html("🔈 {} can write again.", target.full_name)
    else:
        await bot.ban_chat_member(message.chat.id, target.id)
        done = tg_html("⛔ {} is banned from the group.", target.full_name)
    await sync_to_async(services.moderation_record)(
        f"telegram.{action}", chat_id=message.chat.id, member_id=target.id, member_name=target.full_name,
        admin_id=message.from_user.id, admin_name=message.from_user.full_name, minutes=minutes,
    )  # fmt: skip
    await message.answer(done)


async def welcome(message: Message) -> None:
    if not community(message.chat.id):
        return
    names = [member.first_name for member in message.new_chat_members or [] if not member.is_bot]
    if not names:
        return
    bot_link = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}" if settings.TELEGRAM_BOT_USERNAME else settings.SITE_URL
    await message.answer(
        tg_html("Welcome, {}! 🐐 Link your Goated account to race and see your stats: open {} and send "
                "/verify <i>your goated name</i>.", ", ".join(names), bot_link)
    )  # fmt: skip


# --- everything else ----------------------------------------------------------------------------------------------


async def unknown_button(query: CallbackQuery) -> None:
    """A button from an older version of the bot, or forged data: stop the spinner, change nothing."""
    await query.answer("Unknown button.")


async def anything_else(message: Message) -> None:
    if message.chat.type != ChatType.PRIVATE and not (message.text or "").startswith("/"):
        return  # group chatter is not for us
    await message.answer("I didn't get that.\n\n" + texts.HELP)


def dispatcher_create() -> Dispatcher:
    """A new Dispatcher with fresh routers (a router can belong to one dispatcher only)."""
    player, staff, fallback = Router(name="player"), Router(name="staff"), Router(name="fallback")
    group = Router(name="group")
    group.message.register(moderate, Command("mute", "unmute", "ban"))
    group.message.register(welcome, F.new_chat_members)
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
    player.message.register(check_stats, Command("check_stats"))
    player.message.register(website, Command("website"))
    player.message.register(notify, Command("notify"))
    player.callback_query.register(view_button, F.data.regexp(r"^(lb|race|go):"))
    staff.message.register(pending, Command("pending"))
    staff.message.register(approve, Command("approve"))
    staff.message.register(reject, Command("reject"))
    staff.callback_query.register(review_button, F.data.startswith("verif:"))
    staff.message.register(broadcast, Command("broadcast"))
    fallback.message.register(anything_else)
    fallback.callback_query.register(unknown_button)
    dp = Dispatcher()
    limiter = RateLimit()
    dp.message.outer_middleware(FloodGuard())
    dp.message.outer_middleware(limiter)
    dp.callback_query.outer_middleware(limiter)
    dp.include_routers(group, staff, player, fallback)
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
