"""The bot's own writes: a staff /broadcast, through the same machinery as the admin's broadcasts (everything else
the bot does is a service of another app: accounts for linking and verification, notifications for delivery)."""

from __future__ import annotations

from accounts.broadcasts import broadcast_compose
from notifications.models import Broadcast


def broadcast_start(text: str, *, actor, reply_chat: int, key: str) -> tuple[Broadcast, bool]:
    """To verified players on Telegram (those who allow it): the recipients are listed now and a worker sends,
    paced, resumable, once each; the staff chat is told the progress and the outcome. The same command delivered
    again starts nothing new."""
    return broadcast_compose(
        text=text, audience=Broadcast.Audience.VERIFIED, channels=("telegram",), promotional=False, actor=actor,
        key=key, reply_chat=reply_chat,
    )  # fmt: skip
