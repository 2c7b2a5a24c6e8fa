"""The one way anything reaches a player. Every event goes through `notify`, which alone reads the preferences.

Which preference gates which event is the table `EVENTS` below (documented in docs/notifications.md):

- a *topic* preference (`wager_race_updates`, `vip_status_changes`, `promotional_offers`, `monthly_statements`)
  decides whether an event reaches the player at all. Events that answer something the player did (a ticket
  reply, their verification decided, a reward they won) have no topic: they always arrive.
- a *channel* preference decides where: the site (the notifications list and the live bell) always; email with
  `email_notifications` on and a confirmed address; Telegram with `push_notifications` on, a linked chat, and a
  bot the player has not blocked.

Everything here runs inside the caller's transaction: rows are written with it, pushes, emails and Telegram
messages leave only after it commits. The exception is an email-only event (a monthly statement): its email is
built from what the caller hands in and leaves at once, once per key. The same rules choose the recipients of
broadcasts (`*_audience`, used by notifications.broadcasts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import ServiceError
from core.links import is_site_path
from core.metrics import notification_counted
from core.text import tg_html
from notifications import realtime
from notifications.email import EmailRefused, EmailTransient, absolute, email_build, email_deliver, unsubscribe_read
from notifications.models import BotUser, EmailLog, NewsletterSubscription, Notification, NotificationPreferences
from notifications.newsletter import newsletter_confirmed
from notifications.selectors import unread_count_forget
from notifications.tasks import notification_email_task, telegram_message_send_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    kind: str  # how the site labels it (Notification.Kind)
    topic: str | None  # the preference that must be on; None: an answer to something the player did
    telegram: str  # the Telegram message, from the escaped {title} and {body}
    # An email-only event: its own email (a template of templates/emails/), sent at once and once per dedupe_key,
    # with no site row and no Telegram message. `unsubscribe` is what its one-click link stops.
    email: str = ""
    unsubscribe: str = "email"


EVENTS: dict[str, Event] = {
    "race.lead": Event(Notification.Kind.RACE, "wager_race_updates", "🥇 {title} {body}"),
    "race.overtaken": Event(Notification.Kind.RACE, "wager_race_updates", "📉 {title}\n{body}"),
    "race.result": Event(Notification.Kind.RACE, "wager_race_updates", "🏆 {title}! {body}"),
    "vip.tier": Event(Notification.Kind.VIP, "vip_status_changes", "💎 {title}\n{body}"),
    "bonus.new": Event(Notification.Kind.REWARD, "promotional_offers", "🎟 {title}\n{body}"),
    "verification.approved": Event(Notification.Kind.VERIFICATION, None, "✅ {body}"),
    "verification.rejected": Event(Notification.Kind.VERIFICATION, None, "❌ {body}"),
    "ticket.reply": Event(Notification.Kind.SUPPORT, None, "💬 {title}:\n{body}"),
    "reward.won": Event(Notification.Kind.REWARD, None, "🎁 {title}\n{body}"),
    "payout.paid": Event(Notification.Kind.REWARD, None, "💸 {title}\n{body}"),
    "raffle.won": Event(Notification.Kind.REWARD, None, "🎟 {title}\n{body}"),
    "break.ended": Event(Notification.Kind.SYSTEM, None, "🌱 {title}\n{body}"),  # accounts.selfexclusion
    "statement.monthly": Event(
        Notification.Kind.SYSTEM, "monthly_statements", "", email="statement", unsubscribe="statements"
    ),
}
# The topics a self-excluded player (accounts.selfexclusion) hears nothing of: promotions, races, tier climbs.
QUIET_WHEN_EXCLUDED = {"promotional_offers", "wager_race_updates", "vip_status_changes"}


def _self_excluded(user) -> bool:
    until = getattr(user, "self_excluded_until", None)
    return until is not None and until > timezone.now()


# The channel preference of each channel other than the site.
CHANNELS = {"telegram": "push_notifications", "email": "email_notifications"}


def notification_preferences_get(user) -> NotificationPreferences:
    prefs, _ = NotificationPreferences.objects.get_or_create(user=user)
    return prefs


def notification_channel_set(user, channel: str, on: bool) -> NotificationPreferences:
    """Switch one channel (`telegram`, `email`) on or off for a user, as the settings page does."""
    field = CHANNELS[channel]
    prefs = notification_preferences_get(user)
    if getattr(prefs, field) != on:
        setattr(prefs, field, on)
        prefs.save(update_fields=[field])
    return prefs


def _preferences(user) -> NotificationPreferences:
    """The saved preferences, or the model's defaults (marketing off, the rest on) for a user who never saved any."""
    return NotificationPreferences.objects.filter(user=user).first() or NotificationPreferences(user=user)


def notification_create(user, *, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""):
    """Write one in-site notification (pushed to the user's open sockets after commit); None if `dedupe_key`
    was already used for this user. The site channel of `notify`; it reads no preference. A `url` that is not a
    page of this site (`core.links`: "//evil.example/x", "https://…") is dropped, logged, never stored: the
    notification still goes out, its "Open" leads nowhere else."""
    if url and not is_site_path(url):
        logger.warning("notification for user %s: link %r is not a page of this site, dropped", user.pk, url[:200])
        url = ""
    if dedupe_key:
        note, created = Notification.objects.get_or_create(
            user=user, dedupe_key=dedupe_key, defaults={"kind": kind, "title": title, "body": body, "url": url}
        )
        if not created:
            return None
    else:
        note = Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url)
    transaction.on_commit(lambda: realtime.notification_announce(note))
    notification_counted("site", "sent")
    return note


def telegram_text(event: str, title: str, body: str = "") -> str:
    """A notification as a Telegram message (HTML parse mode: every piece escaped, since names and titles come
    from users and the feed)."""
    return tg_html(EVENTS[event].telegram, title=title, body=body).strip()


def _email_reachable(user) -> bool:
    return bool(user.email) and bool(getattr(user, "email_verified", False))


def _telegram_reachable(chat_id: int | None) -> bool:
    return bool(chat_id) and not BotUser.objects.filter(telegram_id=chat_id, blocked_at__isnull=False).exists()


def notify(user, event: str, *, title: str, body: str = "", url: str = "", dedupe_key: str = "",
           context: dict | None = None):  # fmt: skip
    """Tell a player about `event` on every channel their preferences allow. Returns the site notification (for
    an email-only event, the log row of the email sent), or None when nothing was sent (topic switched off,
    account inactive, no channel open, or `dedupe_key` already used). `context` fills an email-only event's
    template."""
    spec = EVENTS[event]
    if user is None or not user.is_active:
        return None
    if spec.topic in QUIET_WHEN_EXCLUDED and _self_excluded(user):
        return None  # a player who chose to step away gets no promotional or race message, on any channel
    prefs = _preferences(user)
    if spec.topic and not getattr(prefs, spec.topic):
        return None
    if spec.email:
        if not (getattr(prefs, CHANNELS["email"]) and _email_reachable(user)):
            return None
        return _email_once(dedupe_key, user.email, title, spec.email, context or {}, unsubscribe_topic=spec.unsubscribe)
    note = notification_create(user, kind=spec.kind, title=title, body=body, url=url, dedupe_key=dedupe_key)
    if note is None:
        return None  # already told, on every channel
    if getattr(prefs, CHANNELS["telegram"]) and _telegram_reachable(user.telegram_id):
        telegram_message_send_task.delay_on_commit(user.telegram_id, telegram_text(event, title, body))
    if getattr(prefs, CHANNELS["email"]) and _email_reachable(user):
        notification_email_task.delay_on_commit(note.pk)
    return note


def notification_email(notification_id: int) -> str:
    """Email one notification (a task: after commit, retried for transient SMTP errors only). Re-reads the
    preferences: a player who switched email off meanwhile gets nothing."""
    note = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if note is None or not note.user.is_active or not _email_reachable(note.user):
        return "skipped"
    if not getattr(_preferences(note.user), CHANNELS["email"]):
        return "skipped"
    message = email_build(
        note.user.email, note.title, "notification",
        {"note": note, "link": absolute(note.url) if note.url else "", "name": note.user.get_username()},
        unsubscribe_topic="email",
    )  # fmt: skip
    return email_deliver(message)  # "sent" or "uncertain" (never retried); EmailTransient: the task retries


def _email_once(key: str, to: str, subject: str, template: str, context: dict, *, unsubscribe_topic: str):
    """Send an email that must go once (an email-only event such as a monthly statement), now: the key is taken
    first, so a re-run sends nothing twice; if the send provably failed the key is given back for the next run
    and the error raised; if it may have been delivered the key is kept, marked uncertain (never resent). The
    EmailLog row, or None if the key was taken already."""
    if not key:
        raise ValueError("an email-only event is sent once per dedupe_key: give one")
    with transaction.atomic():
        log, created = EmailLog.objects.get_or_create(key=key, defaults={"to": to, "subject": subject})
    if not created:
        return None
    try:
        outcome = email_deliver(email_build(to, subject, template, context, unsubscribe_topic=unsubscribe_topic))
    except (EmailTransient, EmailRefused):
        EmailLog.objects.filter(pk=log.pk).delete()
        raise
    if outcome == "uncertain":
        EmailLog.objects.filter(pk=log.pk).update(status=EmailLog.Status.UNCERTAIN)
        log.status = EmailLog.Status.UNCERTAIN
    return log


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


# --- audiences of broadcasts: the same preferences, applied to many users at once ------------------------------


def _without_topic_off(users: QuerySet, topic: str | None) -> QuerySet:
    """Active `users` whose `topic` is on, counting a user who never saved preferences by the topic's default
    (opt-in topics such as promotional offers need a saved "on")."""
    users = users.filter(is_active=True)
    if not topic:
        return users
    if NotificationPreferences._meta.get_field(topic).default:
        return users.exclude(pk__in=NotificationPreferences.objects.filter(**{topic: False}).values("user_id"))
    return users.filter(pk__in=NotificationPreferences.objects.filter(**{topic: True}).values("user_id"))


def site_audience(users: QuerySet, *, topic: str | None = None) -> list[int]:
    """User ids whose notifications list takes the message (the site channel has no switch of its own)."""
    return list(_without_topic_off(users, topic).order_by("pk").values_list("pk", flat=True))


def email_audience(users: QuerySet, *, topic: str | None = None) -> list[str]:
    """Confirmed addresses of `users` with the email channel (and `topic`) on."""
    muted = NotificationPreferences.objects.filter(**{CHANNELS["email"]: False}).values("user_id")
    users = _without_topic_off(users, topic).filter(email_verified=True).exclude(email="").exclude(pk__in=muted)
    return list(users.order_by("pk").values_list("email", flat=True))


def telegram_audience(users: QuerySet, *, topic: str | None = None) -> list[int]:
    """The Telegram chats of `users` that may receive announcements: linked, `push_notifications` (and `topic`)
    on, and the bot not blocked."""
    blocked = BotUser.objects.filter(blocked_at__isnull=False).values_list("telegram_id", flat=True)
    muted = NotificationPreferences.objects.filter(**{CHANNELS["telegram"]: False}).values_list("user_id", flat=True)
    return list(
        _without_topic_off(users, topic)
        .filter(telegram_id__isnull=False)
        .exclude(telegram_id__in=blocked)
        .exclude(pk__in=muted)
        .order_by("pk")
        .values_list("telegram_id", flat=True)
    )


def newsletter_audience() -> list[str]:
    """Every confirmed newsletter address (double opt-in), with or without an account."""
    return list(newsletter_confirmed().order_by("pk").values_list("email", flat=True))


# --- consent: the newsletter and one-click unsubscribes ------------------------------------------------------------


class LinkInvalid(ServiceError):
    code = "invalid_link"


UNSUBSCRIBE_TOPICS = {
    "newsletter": "the newsletter",
    "promotional": "promotions and announcements",
    "statements": "monthly statements",
    "email": "every notification email",
}
_TOPIC_PREFERENCE = {
    "promotional": "promotional_offers",
    "statements": "monthly_statements",
    "email": "email_notifications",
}


def email_unsubscribe(token: str) -> tuple[str, str]:
    """A one-click unsubscribe (RFC 8058): the signed link names the address and what it stops; it needs no
    session. Returns (address, what was stopped)."""
    try:
        address, topic = unsubscribe_read(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("This unsubscribe link is not valid. Copy the whole link from the email.") from None
    if topic not in UNSUBSCRIBE_TOPICS:
        raise LinkInvalid("This unsubscribe link is not valid.")
    with transaction.atomic():
        if topic == "newsletter":
            # Also an address still waiting for its confirmation: the links sent before now stop working.
            NewsletterSubscription.objects.filter(email=address).filter(
                Q(is_subscribed=True) | Q(unsubscribed_at__isnull=True)
            ).update(is_subscribed=False, unsubscribed_at=timezone.now())
        else:
            field = _TOPIC_PREFERENCE[topic]
            for user in get_user_model().objects.filter(email__iexact=address):
                NotificationPreferences.objects.update_or_create(user=user, defaults={field: False})
    return address, UNSUBSCRIBE_TOPICS[topic]


# --- announcements in the community channel ---------------------------------------------------------------------


def announce(key: str, text: str, *, gap_key: str = "", gap_seconds: int = 0, at: datetime | None = None) -> bool:
    """Post to the announcement channel (TELEGRAM_ANNOUNCE_CHAT_ID, else the community group), at most once per
    key (a race went live, a new leader, results), whatever runs it and however often; with `gap_key`, at most one
    post of that kind per `gap_seconds` of the data's time `at` (a race whose lead changes hands every sync).
    Plain text: escaped here."""
    chat = settings.TELEGRAM_ANNOUNCE_CHAT_ID or settings.TELEGRAM_COMMUNITY_CHAT_ID
    if not chat or not settings.TELEGRAM_BOT_TOKEN:
        return False
    try:
        if gap_key:
            moment = (at or timezone.now()).timestamp()
            last = cache.get(f"announce-gap:{gap_key}")
            if last is not None and 0 <= moment - last < gap_seconds:
                return False  # the same kind of post went out less than gap_seconds ago: skip this one
        if not cache.add(f"announce:{key}", 1, timeout=ANNOUNCE_KEY_SECONDS):
            return False
        if gap_key:
            cache.set(f"announce-gap:{gap_key}", moment, timeout=ANNOUNCE_KEY_SECONDS)
    except Exception:  # no cache, no dedupe: better to skip than to repeat
        logger.warning("announce: cache unavailable, %s skipped", key)
        return False
    telegram_message_send_task.delay_on_commit(int(chat), tg_html("{}", text))
    return True


ANNOUNCE_KEY_SECONDS = 60 * 24 * 3600


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


# --- reading ------------------------------------------------------------------------------------------------


def notifications_mark_read(user, *, ids: Iterable[int] | None = None, everything: bool = False) -> int:
    """Mark the user's own notifications read (some, or all); other users' ids are ignored. Open tabs of the
    user get the new unread count."""
    notes = Notification.objects.filter(user=user, read_at__isnull=True)
    if not everything:
        notes = notes.filter(pk__in=list(ids or []))
    updated = notes.update(read_at=timezone.now())
    if updated:
        unread_count_forget(user.pk)
        unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
        transaction.on_commit(lambda: realtime.unread_announce(user.pk, unread))
    return updated
