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
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from core.audit import audit_record
from core.models import AuditEntry
from core.text import tg_html
from notifications import realtime
from notifications.models import BotUser, Broadcast, BroadcastDelivery, Notification, NotificationPreferences
from notifications.tasks import broadcast_run_task, telegram_message_send_task
from notifications.telegram import TelegramTransient, telegram_send_message

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
    return tg_html(EVENTS[event].telegram, title=title, body=body).strip()


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
            text = tg_html("🆕 {title}\n{body}", title=title, body=body).strip()
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


# --- broadcasts ---------------------------------------------------------------------------------------------------


@dataclass
class BroadcastReport:
    recipients: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    seconds: float = 0.0


def broadcast_create(
    *, text: str, chat_ids: Iterable[int], actor=None, key: str | None = None, reply_chat: int | None = None
) -> tuple[Broadcast, bool]:
    """A broadcast and its recipients, listed now. The same `key` (the command that asked for it) gives back the
    broadcast it already started, so a command delivered twice broadcasts once."""
    if key:
        existing = Broadcast.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            broadcast = Broadcast.objects.create(text=text, key=key, created_by=actor, reply_chat=reply_chat)
            deliveries = [BroadcastDelivery(broadcast=broadcast, chat_id=chat) for chat in dict.fromkeys(chat_ids)]
            BroadcastDelivery.objects.bulk_create(deliveries, batch_size=1000)
            transaction.on_commit(lambda: broadcast_run_task.delay(broadcast.pk))
    except IntegrityError:  # the same key, started a moment ago by another process
        return Broadcast.objects.get(key=key), False
    return broadcast, True


def _broadcast_report(broadcast: Broadcast, seconds: float = 0.0) -> BroadcastReport:
    counts = dict(BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("status").annotate(n=Count("pk")))
    S = BroadcastDelivery.Status
    return BroadcastReport(
        recipients=sum(counts.values()), sent=counts.get(S.SENT, 0), blocked=counts.get(S.BLOCKED, 0),
        failed=counts.get(S.FAILED, 0), seconds=seconds,
    )  # fmt: skip


def broadcast_run(broadcast_id: int) -> BroadcastReport:
    """Send a broadcast's pending deliveries at TELEGRAM_BROADCAST_PER_SECOND at most. Each delivery is claimed
    (pending → sending) before its message leaves, so a re-run (a retried task, a restarted worker) sends to
    nobody twice; a chat that blocked the bot is marked and skipped by every later message."""
    broadcast = Broadcast.objects.get(pk=broadcast_id)
    if (
        not Broadcast.objects.filter(pk=broadcast_id)
        .exclude(status=Broadcast.Status.DONE)
        .update(status=Broadcast.Status.SENDING)
    ):
        return _broadcast_report(broadcast)
    interval = 1.0 / settings.TELEGRAM_BROADCAST_PER_SECOND
    started = next_at = time.monotonic()
    pending = BroadcastDelivery.objects.filter(broadcast=broadcast, status=BroadcastDelivery.Status.PENDING)
    total = pending.count()
    text = tg_html("{}", broadcast.text)
    if broadcast.reply_chat and total:
        _tell(broadcast.reply_chat, f"Sending to {total} users…")
    for i, (delivery_id, chat_id) in enumerate(pending.order_by("pk").values_list("pk", "chat_id").iterator()):
        if not BroadcastDelivery.objects.filter(pk=delivery_id, status=BroadcastDelivery.Status.PENDING).update(
            status=BroadcastDelivery.Status.SENDING
        ):
            continue  # another run took it
        # At least `interval` between sends, and never a catch-up burst after a slow stretch: any one-second
        # window holds at most the allowed number of messages.
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_at = max(next_at, time.monotonic()) + interval
        status = _broadcast_send_one(chat_id, text)
        BroadcastDelivery.objects.filter(pk=delivery_id).update(status=status)
        if broadcast.reply_chat and (i + 1) % 250 == 0 and i + 1 < total:
            _tell(broadcast.reply_chat, f"…{i + 1} of {total}")
    report = _broadcast_report(broadcast, time.monotonic() - started)
    with transaction.atomic():
        finished = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.DONE, finished_at=timezone.now()
        )
        if finished:
            audit_record(
                actor=broadcast.created_by, action="telegram.broadcast", target=broadcast, source=AuditEntry.Source.BOT,
                after={"text": broadcast.text[:500], "recipients": report.recipients, "sent": report.sent,
                       "blocked": report.blocked, "failed": report.failed},
            )  # fmt: skip
    if finished and broadcast.reply_chat:
        _tell(
            broadcast.reply_chat,
            f"Broadcast done: {report.sent} sent, {report.blocked} blocked the bot (skipped from now on), "
            f"{report.failed} failed, in {report.seconds:.0f} s.",
        )
    return report


def _broadcast_send_one(chat_id: int, text: str) -> str:
    S = BroadcastDelivery.Status
    if BotUser.objects.filter(telegram_id=chat_id, blocked_at__isnull=False).exists():
        return S.BLOCKED
    for attempt in range(2):
        try:
            outcome = telegram_send_message(chat_id, text)
        except TelegramTransient as exc:
            if attempt == 0 and exc.retry_after:
                time.sleep(min(float(exc.retry_after), 60))  # Telegram asked us to wait: once, then move on
                continue
            return S.FAILED
        return {"sent": S.SENT, "blocked": S.BLOCKED}.get(outcome, S.FAILED)
    return S.FAILED


def _tell(chat_id: int, text: str) -> None:
    """A short status line to the staff member who started a broadcast (best effort: never stops the broadcast)."""
    try:
        telegram_send_message(chat_id, tg_html("{}", text))
    except TelegramTransient:
        logger.warning("broadcast: could not tell chat %s: %s", chat_id, text)
