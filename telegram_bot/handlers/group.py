"""The community group (TELEGRAM_COMMUNITY_CHAT_ID): welcomes, and moderation by reply by the group's admins
who may restrict members (their right asked of Telegram), each step audited. The flood guard is a middleware."""

from __future__ import annotations

from datetime import timedelta

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from asgiref.sync import sync_to_async
from django.conf import settings

from core.text import tg_html
from telegram_bot import services
from telegram_bot.access import MUTED, UNMUTED, community, is_admin, may_restrict

MUTE_MINUTES_MAX = 7 * 24 * 60
MODERATE_USAGE = "Reply to the member's message with /mute [minutes], /unmute or /ban."


async def moderate(message: Message, command: CommandObject) -> None:
    action = command.command.lower()
    if message.chat.type == ChatType.PRIVATE:
        await message.answer("Moderation works in the community group: reply to a member's message there.")
        return
    if not community(message.chat.id):
        await message.answer("I only moderate the GoatedVIPs community group.")
        return
    bot = message.bot
    if not await may_restrict(bot, message.chat.id, message.from_user.id):
        await message.answer("Only the group's admins who may restrict members can do that.")
        return
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if target is None:
        await message.answer(MODERATE_USAGE)
        return
    if target.is_bot or await is_admin(bot, message.chat.id, target.id):
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


def router_create() -> Router:
    router = Router(name="group")
    router.message.register(moderate, Command("mute", "unmute", "ban"))
    router.message.register(welcome, F.new_chat_members)
    return router
