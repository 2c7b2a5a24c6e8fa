"""The one way anything reaches a player. Every event goes through `notify`, which alone reads the preferences.

Which preference gates which event is the table `EVENTS` below (documented in docs/notifications.md):

- a *topic* preference (`wager_race_updates`, `vip_status_changes`, ...) decides whether an event reaches the
  player at all. Events that answer something the player did (a ticket reply, their verification decided, a
  reward they won) have no topic: they always arrive.
- a *channel* preference decides where: the site (the notifications list and the live bell) always, Telegram
  only with `push_notifications` on, a linked chat, and a bot the player has not blocked.

Everything here runs inside the caller's transaction: rows are written with it, pushes and Telegram messages
leave only after it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications import realtime
from notifications.models import BotUser, Notification, NotificationPreferences
from notifications.tasks import telegram_message_send_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    kind: str  # how the site labels it (Notification.Kind)
    topic: str | None  # the preference that must be on; None: an answer to something the player did
    telegram: str  # the Telegram message, from the escaped {title} and {body}


EVENTS: dict[str, Event] = {
    "race.lead": Event(Notification.Kind.RACE, "wager_race_updates", "🥇 {title} {body}"),
    "race.result": Event(Notification.Kind.RACE, "wager_race_updates", "🏆 {title}! {body}"),
    "verification.approved": Event(Notification.Kind.VERIFICATION, None, "✅ {body}"),
    "verification.rejected": Event(Notification.Kind.VERIFICATION, None, "❌ {body}"),
    "ticket.reply": Event(Notification.Kind.SUPPORT, None, "💬 {title}:\n{body}"),
    "reward.won": Event(Notification.Kind.REWARD, None, "🎁 {title}\n{body}"),
}
# The channel preference of each channel other than the site.
CHANNELS = {"telegram": "push_notifications"}


def notification_preferences_get(user) -> NotificationPreferences:
    prefs, _ = NotificationPreferences.objects.get_or_create(user=user)
    return prefs


def _preferences(user) -> NotificationPreferences:
    """The saved preferences, or the defaults (every toggle on) for a user who never saved any."""
    return NotificationPreferences.objects.filter(user=user).first() or NotificationPreferences(user=user)


def notification_create(user, *, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""):
    """Write one in-site notification (pushed to the user's open sockets after commit); None if `dedupe_key`
    was already used for this user. The site channel of `notify`; it reads no preference."""
    if dedupe_key:
        note, created = Notification.objects.get_or_create(
            user=user, dedupe_key=dedupe_key, defaults={"kind": kind, "title": title, "body": body, "url": url}
        )
        if not created:
            return None
    else:
        note = Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url)
    transaction.on_commit(lambda: realtime.notification_announce(note))
    return note


def telegram_text(event: str, title: str, body: str = "") -> str:
    """A notification as a Telegram message (HTML parse mode: every piece escaped, since names and titles come
    from users and the feed)."""
    return EVENTS[event].telegram.format(title=escape(title), body=escape(body)).strip()


def _telegram_reachable(chat_id: int | None) -> bool:
    return bool(chat_id) and not BotUser.objects.filter(telegram_id=chat_id, blocked_at__isnull=False).exists()


def notify(user, event: str, *, title: str, body: str = "", url: str = "", dedupe_key: str = ""):
    """Tell a player about `event` on every channel their preferences allow. Returns the site notification, or
    None when nothing was sent (topic switched off, account inactive, or `dedupe_key` already used)."""
    spec = EVENTS[event]
    if user is None or not user.is_active:
        return None
    prefs = _preferences(user)
    if spec.topic and not getattr(prefs, spec.topic):
        return None
    note = notification_create(user, kind=spec.kind, title=title, body=body, url=url, dedupe_key=dedupe_key)
    if note is None:
        return None  # already told, on every channel
    if getattr(prefs, CHANNELS["telegram"]) and _telegram_reachable(user.telegram_id):
        telegram_message_send_task.delay_on_commit(user.telegram_id, telegram_text(event, title, body))
    return note


def notify_telegram_chat(chat_id: int, event: str, *, title: str, body: str = "") -> None:
    """An answer to someone known only by their Telegram chat (they asked through the bot, no site account):
    there are no preferences to read, and they are waiting for it."""
    if _telegram_reachable(chat_id):
        telegram_message_send_task.delay_on_commit(chat_id, telegram_text(event, title, body))


def staff_alert(staff: Iterable, *, title: str, body: str = "") -> int:
    """Work for staff (a claim to review...) on Telegram, to each one linked: part of the job, not a preference."""
    sent = 0
    for member in staff:
        if member.is_active and _telegram_reachable(member.telegram_id):
            text = f"🆕 {escape(title)}" + (f"\n{escape(body)}" if body else "")
            telegram_message_send_task.delay_on_commit(member.telegram_id, text)
            sent += 1
    return sent


def telegram_audience(users: QuerySet) -> list[int]:
    """The Telegram chats of `users` that may receive announcements: linked, `push_notifications` on, and the
    bot not blocked. Used by broadcasts."""
    blocked = BotUser.objects.filter(blocked_at__isnull=False).values_list("telegram_id", flat=True)
    muted = NotificationPreferences.objects.filter(**{CHANNELS["telegram"]: False}).values_list("user_id", flat=True)
    return list(
        users.filter(is_active=True, telegram_id__isnull=False)
        .exclude(telegram_id__in=blocked)
        .exclude(pk__in=muted)
        .order_by("pk")
        .values_list("telegram_id", flat=True)
    )


# --- who talks to the bot -------------------------------------------------------------------------------------


def bot_user_seen(telegram_id: int, username: str = "", first_name: str = "") -> BotUser:
    """Someone wrote to the bot: they can be reached again (a block they had is lifted by writing to us)."""
    now = timezone.now()
    bot_user, created = BotUser.objects.get_or_create(
        telegram_id=telegram_id,
        defaults={"username": username or "", "first_name": first_name or "", "first_seen": now, "last_seen": now},
    )
    if not created:
        BotUser.objects.filter(pk=bot_user.pk).update(
            username=username or "", first_name=first_name or "", last_seen=now, blocked_at=None
        )
    return bot_user
