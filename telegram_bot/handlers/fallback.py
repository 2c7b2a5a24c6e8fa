"""Whatever no other router took: help for a private message or an unknown command, silence for group chatter."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from telegram_bot import texts


async def unknown_button(query: CallbackQuery) -> None:
    """A button from an older version of the bot, or forged data: stop the spinner, change nothing."""
    await query.answer("Unknown button.")


async def anything_else(message: Message) -> None:
    if message.chat.type != ChatType.PRIVATE and not (message.text or "").startswith("/"):
        return  # group chatter is not for us
    await message.answer("I didn't get that.\n\n" + texts.HELP)


def router_create() -> Router:
    router = Router(name="fallback")
    router.message.register(anything_else)
    router.callback_query.register(unknown_button)
    return router
