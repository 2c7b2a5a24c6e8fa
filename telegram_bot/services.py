"""The bot's own writes: starting a broadcast to players on Telegram (everything else the bot does is a service of
another app: accounts for linking and verification, notifications for reachability and delivery)."""

from __future__ import annotations

from accounts.selectors import users_verified
from notifications.models import Broadcast
from notifications.services import broadcast_create, telegram_audience


def broadcast_recipients() -> list[int]:
    """Verified players whose Telegram may receive announcements (the notifications service decides which)."""
    return telegram_audience(users_verified())


def broadcast_start(text: str, *, actor, reply_chat: int, key: str) -> tuple[Broadcast, bool]:
    """A staff /broadcast: the recipients are listed now and a worker sends (paced, resumable, once each); the
    staff chat is told the progress and the outcome. The same command delivered again starts nothing new."""
    return broadcast_create(text=text, chat_ids=broadcast_recipients(), actor=actor, key=key, reply_chat=reply_chat)
