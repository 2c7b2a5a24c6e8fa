"""Player commands and their buttons: in a private chat or a group, for anyone (some answers need a linked
account). Handlers only parse input, call one service or selector, and answer with a text from `texts.py`."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async

from accounts import privacy as accounts_privacy
from accounts import selectors as accounts_selectors
from accounts import selfexclusion
from accounts import services as accounts_services
from core.errors import ServiceError
from core.models import AuditEntry
from core.text import tg_html
from notifications.services import notification_channel_set
from races.feed.names import public_name
from telegram_bot import services, texts
from telegram_bot.access import staff_commands
from telegram_bot.keyboards import (
    board_view,
    break_keyboard,
    help_keyboard,
    leaderboard_keyboard,
    privacy_keyboard,
    race_keyboard,
    website_keyboard,
)

RACE_VIEWS = {"top": texts.NEIGHBOURS, "me": 5}  # rows either side of the player: the usual view, "Around me"
NOT_YOURS = "This button belongs to whoever asked. Send the command yourself to get your own."
# A handler flagged with a feature runs only while that switch is on (middlewares.FeatureGate, core.features).
BONUS_CODES = {"feature": "bonus_codes"}
NOTIFY_USAGE = "Usage: /notify on or /notify off — race results, leads and account messages from me."


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
    staff = texts.staff_help(await staff_commands(message))
    await message.answer(texts.HELP + staff, reply_markup=help_keyboard(message.from_user.id))


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
    board = board_view(argument) if view == "lb" else None
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


async def raffle(message: Message) -> None:
    await message.answer(await sync_to_async(texts.raffle_text)(message.from_user.id))


async def enter(message: Message, command: CommandObject) -> None:
    await message.answer(await sync_to_async(services.raffle_enter_from_bot)(message.from_user.id, command.args or ""))


PRIVACY_USAGE = "Send /privacy full, /privacy masked or /privacy hidden, or press a button."
LINK_FIRST = "Link your site account first: Settings → Telegram on the site."


def _privacy_text(user) -> str:
    choice = accounts_privacy.name_display_of(user)
    if choice is None:
        return "Your site account has no Goated player linked yet: send /verify <i>your goated name</i> first."
    shown = public_name(user.player.name, choice)  # what they chose (a break hides it meanwhile anyway)
    return tg_html("🕶 Others see your Goated name as <b>{}</b>.\n", shown) + PRIVACY_USAGE


async def privacy(message: Message, command: CommandObject) -> None:
    """/privacy [full|masked|hidden]: how the linked player's name appears to others (accounts.privacy)."""
    if message.chat.type != ChatType.PRIVATE:
        await message.answer("Please send /privacy in a private chat with me.")
        return
    user = await sync_to_async(accounts_selectors.site_user_for)(message.from_user.id)
    if user is None:
        await message.answer(LINK_FIRST)
        return
    choice = (command.args or "").strip().lower()
    if choice:
        try:
            await sync_to_async(accounts_privacy.name_display_set)(user, choice, source=AuditEntry.Source.BOT)
        except ServiceError as exc:
            await message.answer(tg_html("{}", exc.message))
            return
    text = await sync_to_async(_privacy_text)(user)
    await message.answer(text, reply_markup=privacy_keyboard(message.from_user.id))


async def privacy_button(query: CallbackQuery) -> None:
    parts = (query.data or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit() or query.message is None:
        await query.answer("Unknown button.")
        return
    if query.from_user.id != int(parts[2]):
        await query.answer(NOT_YOURS, show_alert=True)
        return
    user = await sync_to_async(accounts_selectors.site_user_for)(query.from_user.id)
    if user is None:
        await query.answer(LINK_FIRST, show_alert=True)
        return
    try:
        await sync_to_async(accounts_privacy.name_display_set)(user, parts[1], source=AuditEntry.Source.BOT)
    except ServiceError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    await _edit(query, await sync_to_async(_privacy_text)(user), privacy_keyboard(query.from_user.id))


async def take_break(message: Message) -> None:
    """/break: a signed one-time link to the site's confirmation page, where the password confirms it (a password
    is never asked for in Telegram)."""
    if message.chat.type != ChatType.PRIVATE:
        await message.answer("Please send /break in a private chat with me.")
        return
    user = await sync_to_async(accounts_selectors.site_user_for)(message.from_user.id)
    if user is None:
        await message.answer(LINK_FIRST)
        return
    link = await sync_to_async(selfexclusion.self_exclusion_link)(user)
    await message.answer(texts.BREAK_TEXT.format(minutes=selfexclusion.BREAK_LINK_MINUTES),
                         reply_markup=break_keyboard(link))  # fmt: skip


def router_create() -> Router:
    router = Router(name="player")
    router.message.register(start_with_token, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(verify, Command("verify"))
    router.message.register(stats, Command("stats"))
    router.message.register(race, Command("race"))
    router.message.register(leaderboard, Command("leaderboard"))
    router.message.register(bonus_codes, Command("bonuscodes"), flags=BONUS_CODES)
    router.message.register(play, Command("play"))
    router.message.register(join, Command("join"))
    router.message.register(raffle, Command("raffle"))
    router.message.register(enter, Command("enter"))
    router.message.register(check_stats, Command("check_stats"))
    router.message.register(website, Command("website"))
    router.message.register(notify, Command("notify"))
    router.message.register(privacy, Command("privacy"))
    router.message.register(take_break, Command("break"))
    router.callback_query.register(privacy_button, F.data.startswith("priv:"))
    router.callback_query.register(view_button, F.data.startswith("go:codes:"), flags=BONUS_CODES)
    router.callback_query.register(view_button, F.data.regexp(r"^(lb|race|go):"))
    return router
