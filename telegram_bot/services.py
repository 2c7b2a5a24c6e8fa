"""The bot's own writes: broadcasts to players on Telegram (everything else the bot does is a service of another
app: accounts for linking and verification, notifications for reachability)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.selectors import users_verified
from core.audit import audit_record
from core.models import AuditEntry
from notifications.services import telegram_audience
from notifications.telegram import bot_user_blocked


@dataclass
class BroadcastReport:
    recipients: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    seconds: float = 0.0


def broadcast_recipients() -> list[int]:
    """Verified players whose Telegram may receive announcements (the notifications service decides which)."""
    return telegram_audience(users_verified())


def broadcast_audit(actor, text: str, report: BroadcastReport) -> None:
    audit_record(
        actor=actor,
        action="telegram.broadcast",
        after={"text": text[:500], "recipients": report.recipients, "sent": report.sent, "blocked": report.blocked},
        source=AuditEntry.Source.BOT,
    )


async def broadcast_send(bot: Bot, text: str, *, actor=None, progress=None) -> BroadcastReport:
    """Send to every recipient at TELEGRAM_BROADCAST_PER_SECOND at most; mark users who blocked the bot. With an
    `actor`, the broadcast is audited when it ends."""
    recipients = await sync_to_async(broadcast_recipients)()
    report = BroadcastReport(recipients=len(recipients))
    interval = 1.0 / settings.TELEGRAM_BROADCAST_PER_SECOND
    started = next_at = time.monotonic()
    if progress:
        await progress(f"Sending to {len(recipients)} users…")
    for i, chat_id in enumerate(recipients):
        # At least `interval` between sends, and never a catch-up burst after a slow stretch: any one-second
        # window holds at most the allowed number of messages.
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        next_at = max(next_at, time.monotonic()) + interval
        try:
            await bot.send_message(chat_id, text)
            report.sent += 1
        except TelegramForbiddenError:
            report.blocked += 1
            await sync_to_async(bot_user_blocked)(chat_id)
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            next_at = time.monotonic() + interval
            try:
                await bot.send_message(chat_id, text)
                report.sent += 1
            except Exception:
                report.failed += 1
        except TelegramBadRequest:
            report.failed += 1
        if progress and (i + 1) % 250 == 0 and i + 1 < len(recipients):
            await progress(f"…{i + 1} of {len(recipients)}")
    report.seconds = time.monotonic() - started
    if actor is not None:
        await sync_to_async(broadcast_audit)(actor, text, report)
    return report
