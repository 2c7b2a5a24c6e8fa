"""Staff commands (in a private chat only: they show players' data): the review queue, approve/reject by command
or button, and /broadcast. Each asks for the permission of its admin twin (`core.roles.BOT_COMMAND_PERMISSIONS`).
Decisions go through the accounts services, which audit."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from asgiref.sync import sync_to_async

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from core.errors import ServiceError
from core.models import AuditEntry
from core.text import tg_html
from notifications.broadcasts import broadcast_start
from telegram_bot import texts
from telegram_bot.access import NOT_STAFF, PRIVATE_ONLY, staff_in_private, staff_member
from telegram_bot.keyboards import review_keyboard


async def pending(message: Message) -> None:
    if await staff_in_private(message, "pending") is None:
        return
    requests = await sync_to_async(accounts_selectors.verification_requests_pending)()
    if not requests:
        await message.answer("No verification requests are waiting. 🎉")
        return
    for r in requests:
        await message.answer(await sync_to_async(texts.request_text)(r), reply_markup=review_keyboard(r.pk))


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
    actor = await staff_in_private(message, "approve")
    if actor is None:
        return
    request_id, _ = _request_id(command.args)
    if request_id is None:
        await message.answer("Usage: /approve <i>request id</i>")
        return
    await message.answer((await _decide(actor, request_id, True))[0])


async def reject(message: Message, command: CommandObject) -> None:
    actor = await staff_in_private(message, "reject")
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
    actor = await staff_member(query, "verif")
    if actor is None or query.message is None or query.message.chat.type != ChatType.PRIVATE:
        await query.answer(NOT_STAFF if actor is None else PRIVATE_ONLY)
        return
    html, plain = await _decide(actor, int(parts[2]), parts[1] == "approve")
    await query.answer(plain[:190])
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(html)


async def broadcast(message: Message, command: CommandObject) -> None:
    actor = await staff_in_private(message, "broadcast")
    if actor is None:
        return
    text = (command.args or "").strip()
    if not text:
        await message.answer("Usage: /broadcast <i>text</i> — goes to verified users who allow messages.")
        return
    key = f"tg:{message.chat.id}:{message.message_id}"
    record, created = await sync_to_async(broadcast_start)(text, actor=actor, reply_chat=message.chat.id, key=key)
    if not created:
        await message.answer(tg_html("Broadcast #{} was already started by this message.", record.pk))


def router_create() -> Router:
    router = Router(name="staff")
    router.message.register(pending, Command("pending"))
    router.message.register(approve, Command("approve"))
    router.message.register(reject, Command("reject"))
    router.callback_query.register(review_button, F.data.startswith("verif:"))
    router.message.register(broadcast, Command("broadcast"))
    return router
