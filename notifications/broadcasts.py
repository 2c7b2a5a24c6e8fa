"""Broadcasts: one message to many people on the site, by email and on Telegram, paced per channel, resumable,
and never twice to one recipient on one channel. Everything about them lives here: who an audience means
(`audience_users`), its recipients per channel (`broadcast_recipients`), the preview, composing one (the admin's
composer, `notifications/admin.py`) or starting one from the bot (`broadcast_start`), sending and the report.

The recipients are listed up front (one delivery per channel and recipient, unique), chosen by the audience
rules of `notifications.services` (preferences, confirmed addresses, blocked bots). A run claims each delivery
(pending → sending) before its message leaves: a second run, a retried task or a restarted worker skips it. A run
asked to stop (SIGTERM, `stop`) finishes the message in hand and leaves the rest pending for the next run. On the
site channel the claim and the notification row are one transaction, so it is exactly once; on email and
Telegram a process killed outright in the instant between the claim and the answer leaves that one message
unsent rather than sent twice. A send is retried only when it provably did not arrive (no connection, Telegram's
429, an SMTP 4xx); one that may have arrived (no answer, a dropped connection, a 5xx from Telegram) is recorded
"uncertain" and never sent again (docs/notifications.md, "Delivery states").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.audit import audit_record
from core.errors import ServiceError
from core.links import is_site_path
from core.models import AuditEntry
from core.text import tg_html
from notifications.audiences import audience_source
from notifications.email import EmailRefused, EmailTransient, absolute, email_build, email_deliver
from notifications.models import BotUser, Broadcast, BroadcastDelivery, Notification
from notifications.newsletter import newsletter_confirmed
from notifications.realtime import notification_announce
from notifications.services import email_audience, newsletter_audience, site_audience, telegram_audience
from notifications.tasks import broadcast_run_task
from notifications.telegram import TelegramTransient, telegram_send_message

logger = logging.getLogger(__name__)

Channel, Status = BroadcastDelivery.Channel, BroadcastDelivery.Status
Audience = Broadcast.Audience
CHANNELS = ("site", "email", "telegram")
# Set to stop runs in this process after the message in hand (the broadcast_send command sets it on SIGTERM).
stop = threading.Event()
PROGRESS_EVERY = 100
SEND_ATTEMPTS = 3  # per email or Telegram delivery, for failures that provably did not deliver it only


@dataclass
class Recipients:
    site: list[int] = field(default_factory=list)  # user ids
    email: list[str] = field(default_factory=list)  # addresses
    telegram: list[int] = field(default_factory=list)  # chat ids


@dataclass
class BroadcastReport:
    recipients: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    uncertain: int = 0  # may have arrived; never resent (an operator decides)
    pending: int = 0
    seconds: float = 0.0
    by_channel: dict = field(default_factory=dict)  # channel → {status: count}


class BroadcastRefused(ServiceError):
    code = "broadcast_invalid"


# --- who an audience means ------------------------------------------------------------------------------------
# Tiers (vip) and races (races) sit above this app: each registers what its audience means (notifications.audiences)
# and this module asks, never importing them.


def broadcast_tiers() -> QuerySet:
    """The VIP tiers an operator may address, lowest first."""
    return audience_source(Audience.TIER).choices()


def broadcast_races() -> QuerySet:
    """The races whose participants an operator may address, newest first."""
    return audience_source(Audience.RACE).choices()


def audience_users(audience: str, params: dict) -> QuerySet:
    """The accounts an audience means (before anyone's preferences are applied). A broadcast is promotional:
    self-excluded players (accounts.selfexclusion) are never in it."""
    User = get_user_model()
    users = User.objects.filter(is_active=True).filter(
        Q(self_excluded_until__isnull=True) | Q(self_excluded_until__lte=timezone.now())
    )
    if audience == Audience.EVERYONE:
        return users
    if audience == Audience.VERIFIED:
        return users.filter(verification_status=User.VerificationStatus.VERIFIED)
    if audience == Audience.TIER:
        tier = broadcast_tiers().filter(pk=params.get("tier_id")).first()
        if tier is None:
            raise BroadcastRefused("Choose the VIP tier the broadcast is for.", fields={"tier": ["Required."]})
        return audience_source(Audience.TIER).users(users, tier)
    if audience == Audience.RACE:
        race = broadcast_races().filter(pk=params.get("race_id")).first()
        if race is None:
            raise BroadcastRefused("Choose the race whose participants get it.", fields={"race": ["Required."]})
        return audience_source(Audience.RACE).users(users, race)
    if audience == Audience.NEWSLETTER:
        addresses = newsletter_confirmed().values("email")
        return users.filter(email__in=addresses)
    raise BroadcastRefused(f"Unknown audience “{audience}”.", fields={"audience": ["Unknown."]})


def broadcast_recipients(audience: str, params: dict, channels, *, promotional: bool) -> Recipients:
    users = audience_users(audience, params)
    topic = "promotional_offers" if promotional else None
    recipients = Recipients()
    if "site" in channels:
        recipients.site = site_audience(users, topic=topic)
    if "email" in channels:
        # Newsletter subscribers asked for these emails (their subscription is the consent), accounts or not.
        recipients.email = (
            newsletter_audience() if audience == Audience.NEWSLETTER else email_audience(users, topic=topic)
        )
    if "telegram" in channels:
        recipients.telegram = telegram_audience(users, topic=topic)
    return recipients


def broadcast_preview(audience: str, params: dict, channels, *, promotional: bool) -> dict[str, int]:
    """How many would get it, per channel (what the admin shows before sending)."""
    recipients = broadcast_recipients(audience, params, channels, promotional=promotional)
    return {channel: len(getattr(recipients, channel)) for channel in CHANNELS if channel in channels}


# --- starting one ---------------------------------------------------------------------------------------------


def broadcast_compose(
    *, text: str, audience: str = Audience.VERIFIED, params: dict | None = None, channels=("telegram",),
    title: str = "", link: str = "", promotional: bool = True, actor=None, key: str | None = None,
    reply_chat: int | None = None,
) -> tuple[Broadcast, bool]:  # fmt: skip
    """Start a broadcast (admin composer, bot /broadcast): recipients listed now, a worker sends."""
    text, title, params = (text or "").strip(), (title or "").strip(), params or {}
    channels = [c for c in CHANNELS if c in set(channels)]
    if not text:
        raise BroadcastRefused("Write the message first.", fields={"text": ["This field may not be blank."]})
    if not channels:
        raise BroadcastRefused("Choose at least one channel.", fields={"channels": ["Choose at least one."]})
    if link and not is_site_path(link):  # "//evil.example/" starts with "/" too
        raise BroadcastRefused("The link must be a page of this site, like /races/12/.", fields={"link": ["A path."]})
    recipients = broadcast_recipients(audience, params, channels, promotional=promotional)
    return broadcast_create(
        text=text, title=title, link=link, recipients=recipients, actor=actor, key=key, reply_chat=reply_chat,
        audience=audience, audience_params=params, promotional=promotional,
        site="site" in channels, email="email" in channels, telegram="telegram" in channels,
    )  # fmt: skip


def broadcast_start(text: str, *, actor, reply_chat: int, key: str) -> tuple[Broadcast, bool]:
    """The bot's /broadcast: to verified players on Telegram (those who allow it), as a service announcement;
    the staff chat is told the progress and the outcome. The same command delivered again starts nothing new."""
    return broadcast_compose(
        text=text, audience=Audience.VERIFIED, channels=("telegram",), promotional=False, actor=actor, key=key,
        reply_chat=reply_chat,
    )  # fmt: skip


def broadcast_create(
    *, text: str, recipients: Recipients, title: str = "", link: str = "", actor=None, key: str | None = None,
    reply_chat: int | None = None, **options,
) -> tuple[Broadcast, bool]:  # fmt: skip
    """A broadcast with its recipients listed now, queued to a worker. The same `key` (the command that asked
    for it) gives back the broadcast it already started, so a command delivered twice broadcasts once."""
    if key:
        existing = Broadcast.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
    rows = [(Channel.SITE, str(r)) for r in dict.fromkeys(recipients.site)]
    rows += [(Channel.EMAIL, r.strip().lower()) for r in dict.fromkeys(recipients.email)]
    rows += [(Channel.TELEGRAM, str(r)) for r in dict.fromkeys(recipients.telegram)]
    # The channels asked for (a channel with nobody to reach is still shown as asked).
    flags = {ch: bool(options.pop(ch, False)) or bool(getattr(recipients, ch)) for ch in ("site", "email", "telegram")}
    try:
        with transaction.atomic():
            broadcast = Broadcast.objects.create(
                title=title, text=text, link=link, key=key, created_by=actor, reply_chat=reply_chat, **flags, **options
            )
            BroadcastDelivery.objects.bulk_create(
                (BroadcastDelivery(broadcast=broadcast, channel=c, recipient=r) for c, r in dict.fromkeys(rows)),
                batch_size=1000,
            )
            audit_record(
                actor=actor, action="broadcast.create", target=broadcast, source=AuditEntry.Source.SERVICE,
                after={"title": title, "text": text[:500], "audience": broadcast.audience,
                       "recipients": {c: sum(1 for ch, _ in rows if ch == c) for c in Channel.values}},
            )  # fmt: skip
            transaction.on_commit(lambda: broadcast_run_task.delay(broadcast.pk))
    except IntegrityError:  # the same key, started a moment ago by another process
        return Broadcast.objects.get(key=key), False
    return broadcast, True


def broadcast_report(broadcast: Broadcast, seconds: float = 0.0) -> BroadcastReport:
    rows = (
        BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("channel", "status").annotate(n=Count("pk"))
    )
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, n in rows:
        by_channel.setdefault(channel, {})[status] = n
    total = {s: sum(c.get(s, 0) for c in by_channel.values()) for s in Status.values}
    return BroadcastReport(
        recipients=sum(total.values()), sent=total[Status.SENT], blocked=total[Status.BLOCKED],
        failed=total[Status.FAILED], uncertain=total[Status.UNCERTAIN], pending=total[Status.PENDING],
        seconds=seconds, by_channel=by_channel,
    )  # fmt: skip


class _Pace:
    """At least 1/rate between sends on one channel, and never a catch-up burst after a slow stretch: any
    one-second window holds at most `rate` messages."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock, self.sleep = clock, sleep  # a test passes its own, to check the schedule without waiting
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = clock()

    def wait(self) -> None:
        delay = self.next_at - self.clock()
        if delay > 0:
            self.sleep(delay)
        self.next_at = max(self.next_at, self.clock()) + self.interval


def _claim(delivery_id: int) -> bool:
    return bool(BroadcastDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(status=Status.SENDING))


def _finish(delivery_id: int, status: str) -> None:
    BroadcastDelivery.objects.filter(pk=delivery_id).update(status=status)


def _send_site(broadcast: Broadcast, delivery_id: int, user_id: str) -> None:
    with transaction.atomic():
        if not _claim(delivery_id):
            return
        user = get_user_model().objects.filter(pk=int(user_id), is_active=True).first()
        if user is None:
            _finish(delivery_id, Status.FAILED)
            return
        note, created = Notification.objects.get_or_create(
            user=user, dedupe_key=f"broadcast:{broadcast.pk}",
            defaults={"kind": Notification.Kind.ANNOUNCEMENT, "title": broadcast.title or broadcast.text[:120],
                      "body": broadcast.text if broadcast.title else "", "url": broadcast.link},
        )  # fmt: skip
        if created:
            transaction.on_commit(lambda: notification_announce(note))
        _finish(delivery_id, Status.SENT)


def _email_topic(broadcast: Broadcast) -> str:
    if broadcast.audience == Broadcast.Audience.NEWSLETTER:
        return "newsletter"
    return "promotional" if broadcast.promotional else "email"


def _wait_to_retry(attempt: int, retry_after: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """The pause after an email or Telegram send that provably did not arrive: what a 429 asked for (at most
    60 s), else 1 s, then 2 s. None after the last try: the delivery is counted failed at once."""
    if attempt + 1 < SEND_ATTEMPTS:
        sleep(min(float(retry_after), 60) if retry_after else min(2**attempt, 10))


# What a channel's answer makes of a delivery ("gone", "disabled": failed).
OUTCOME_STATUS = {"sent": Status.SENT, "blocked": Status.BLOCKED, "uncertain": Status.UNCERTAIN}


def _send_email(broadcast: Broadcast, delivery_id: int, address: str, connection, sleep=time.sleep) -> None:
    if not _claim(delivery_id):
        return
    message = email_build(
        address, broadcast.title or f"News from {settings.SITE_NAME}", "broadcast",
        {"broadcast": broadcast, "link": absolute(broadcast.link) if broadcast.link else ""},
        unsubscribe_topic=_email_topic(broadcast),
    )  # fmt: skip
    for attempt in range(SEND_ATTEMPTS):
        try:
            outcome = email_deliver(message, connection)
        except EmailTransient as exc:  # not delivered: unreachable, 4xx, or lost before the message ended
            logger.warning("broadcast %s: email to %s failed (%s), attempt %s", broadcast.pk, address, exc, attempt)
            connection = get_connection()  # the old connection may be dead
            _wait_to_retry(attempt, sleep=sleep)
            continue
        except EmailRefused:
            _finish(delivery_id, Status.FAILED)
            return
        _finish(delivery_id, OUTCOME_STATUS[outcome])  # sent, or uncertain: either way never sent again
        return
    _finish(delivery_id, Status.FAILED)


def _send_telegram(broadcast: Broadcast, delivery_id: int, chat: str, sleep=time.sleep) -> None:
    if not _claim(delivery_id):
        return
    chat_id = int(chat)
    if BotUser.objects.filter(telegram_id=chat_id, blocked_at__isnull=False).exists():
        _finish(delivery_id, Status.BLOCKED)
        return
    text = (
        tg_html("<b>{}</b>\n{}", broadcast.title, broadcast.text) if broadcast.title else tg_html("{}", broadcast.text)
    )
    if broadcast.link:
        text += tg_html("\n{}", absolute(broadcast.link))
    for attempt in range(SEND_ATTEMPTS):
        try:
            outcome = telegram_send_message(chat_id, text)
        except TelegramTransient as exc:  # not delivered: no connection was made, or 429
            logger.warning("broadcast %s: Telegram to %s failed (%s), attempt %s", broadcast.pk, chat_id, exc, attempt)
            _wait_to_retry(attempt, exc.retry_after, sleep)
            continue
        _finish(delivery_id, OUTCOME_STATUS.get(outcome, Status.FAILED))
        return
    _finish(delivery_id, Status.FAILED)


def broadcast_run(
    broadcast_id: int, progress: Callable[[str, int, int], None] | None = None, *,
    sleep: Callable[[float], None] = time.sleep,
) -> BroadcastReport:  # fmt: skip
    """Send a broadcast's pending deliveries, site first (instant), then email and Telegram paced at their own
    rates (EMAIL_BROADCAST_PER_SECOND, TELEGRAM_BROADCAST_PER_SECOND). Safe to run twice, or after a stop.
    `progress(channel, done, total)` is called every PROGRESS_EVERY deliveries of a channel and at its end.
    `sleep` waits before retrying a delivery that failed for now (a test passes its own, to see the waits)."""
    broadcast = Broadcast.objects.get(pk=broadcast_id)
    claimed = (
        Broadcast.objects.filter(pk=broadcast_id)
        .exclude(status=Broadcast.Status.DONE)
        .update(status=Broadcast.Status.SENDING)
    )
    if not claimed:
        return broadcast_report(broadcast)
    started = time.monotonic()
    pending = BroadcastDelivery.objects.filter(broadcast=broadcast, status=Status.PENDING)
    telegram_total = pending.filter(channel=Channel.TELEGRAM).count()
    if broadcast.reply_chat and telegram_total:
        _tell(broadcast.reply_chat, f"Sending to {telegram_total} users…")
    connection = None
    paces = {
        Channel.EMAIL: _Pace(settings.EMAIL_BROADCAST_PER_SECOND),
        Channel.TELEGRAM: _Pace(settings.TELEGRAM_BROADCAST_PER_SECOND),
    }
    sent_on_telegram = 0
    for channel in (Channel.SITE, Channel.EMAIL, Channel.TELEGRAM):
        total = pending.filter(channel=channel).count() if progress else 0
        rows: Iterable = pending.filter(channel=channel).order_by("pk").values_list("pk", "recipient").iterator()
        for done, (delivery_id, recipient) in enumerate(rows):
            if progress and done and done % PROGRESS_EVERY == 0:
                progress(channel, done, total)
            if stop.is_set():
                logger.info("broadcast %s: stopped; the rest stays pending for the next run", broadcast_id)
                return broadcast_report(broadcast, time.monotonic() - started)
            if channel == Channel.SITE:
                _send_site(broadcast, delivery_id, recipient)
                continue
            paces[channel].wait()
            if channel == Channel.EMAIL:
                connection = connection or get_connection()
                _send_email(broadcast, delivery_id, recipient, connection, sleep)
            else:
                _send_telegram(broadcast, delivery_id, recipient, sleep)
                sent_on_telegram += 1
                if broadcast.reply_chat and sent_on_telegram % 250 == 0 and sent_on_telegram < telegram_total:
                    _tell(broadcast.reply_chat, f"…{sent_on_telegram} of {telegram_total}")
        if progress and total:
            progress(channel, total, total)
    report = broadcast_report(broadcast, time.monotonic() - started)
    _finished(broadcast, report)
    return report


def _finished(broadcast: Broadcast, report: BroadcastReport) -> None:
    """Mark the broadcast done once (its audit row and the staff chat's last word come with that change)."""
    with transaction.atomic():
        finished = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.DONE, finished_at=timezone.now()
        )
        if finished:
            audit_record(
                actor=broadcast.created_by, action="broadcast.sent", target=broadcast, source=AuditEntry.Source.SYSTEM,
                after={"recipients": report.recipients, "sent": report.sent, "blocked": report.blocked,
                       "failed": report.failed, "uncertain": report.uncertain, "by_channel": report.by_channel},
            )  # fmt: skip
    if finished and broadcast.reply_chat:
        _tell(
            broadcast.reply_chat,
            f"Broadcast done: {report.sent} sent, {report.blocked} blocked the bot (skipped from now on), "
            f"{report.failed} failed, in {report.seconds:.0f} s."
            + (f" {report.uncertain} may have arrived (no answer came): not resent." if report.uncertain else ""),
        )


def _tell(chat_id: int, text: str) -> None:
    """A short status line to the staff member who started a broadcast (best effort: never stops the broadcast)."""
    try:
        telegram_send_message(chat_id, tg_html("{}", text))
    except TelegramTransient:
        logger.warning("broadcast: could not tell chat %s: %s", chat_id, text)
