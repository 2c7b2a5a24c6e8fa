"""Who may do what in the bot: staff (each command asks for the permission of its admin twin, from the site's
roles table `core.roles`), the community group and its admins (asked of Telegram each time, never of a list), and
what a mute takes away."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.types import ChatPermissions, Message
from asgiref.sync import sync_to_async
from django.conf import settings

from accounts import selectors as accounts_selectors
from core.roles import bot_commands_for, may_use_bot_command

NOT_STAFF = "That command is for staff. Send /help to see what I can do for you."
PRIVATE_ONLY = "Staff commands work only in a private chat with me (they show players' data)."

MUTED = ChatPermissions(can_send_messages=False)
UNMUTED = ChatPermissions(
    can_send_messages=True, can_send_audios=True, can_send_documents=True, can_send_photos=True,
    can_send_videos=True, can_send_video_notes=True, can_send_voice_notes=True, can_send_polls=True,
    can_send_other_messages=True, can_add_web_page_previews=True, can_invite_users=True,
)  # fmt: skip


async def staff_member(message_or_query, command: str) -> object | None:
    """The site user behind this Telegram account if they may use the staff `command` (the same permission as its
    admin twin, `core.roles.BOT_COMMAND_PERMISSIONS`), else None."""
    user = await sync_to_async(accounts_selectors.site_user_for)(message_or_query.from_user.id)
    return user if await sync_to_async(may_use_bot_command)(user, command) else None


async def staff_commands(message_or_query) -> list[str]:
    """The staff commands open to the sender (none for a player or an unlinked account)."""
    user = await sync_to_async(accounts_selectors.site_user_for)(message_or_query.from_user.id)
    return await sync_to_async(bot_commands_for)(user)


async def staff_in_private(message: Message, command: str) -> object | None:
    """The staff member sending `command`, or None after telling the sender why not (no right to it, or a
    group)."""
    actor = await staff_member(message, command)
    if actor is None:
        await message.answer(NOT_STAFF)
        return None
    if message.chat.type != ChatType.PRIVATE:
        await message.answer(PRIVATE_ONLY)
        return None
    return actor


def community(chat_id: int) -> bool:
    return bool(settings.TELEGRAM_COMMUNITY_CHAT_ID) and chat_id == settings.TELEGRAM_COMMUNITY_CHAT_ID


async def may_restrict(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time, never of a list: the group's owner, or an admin with the right to restrict."""
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status == "creator" or (
        member.status == "administrator" and bool(getattr(member, "can_restrict_members", False))
    )


async def is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    return (await bot.get_chat_member(chat_id, user_id)).status in ("creator", "administrator")
