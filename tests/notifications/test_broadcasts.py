"""Broadcasts across the site, email (a local SMTP server) and Telegram (the fake Bot API): exactly one message per
recipient and channel, even when the sending process is stopped and started again; one-click unsubscribes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from core.models import AuditEntry
from notifications import broadcasts
from notifications.broadcasts import broadcast_compose, broadcast_preview, broadcast_report
from notifications.models import Broadcast, NewsletterSubscription, Notification, NotificationPreferences
from tests.realtime.servers import ROOT, child_env, manage
from tests.telegram_bot.fake_telegram import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)
ALL = ("site", "email", "telegram")
# Enough that each stop lands mid-channel with many messages still pending; the count itself is not the point
# (tests/telegram_bot/test_bot.py sends to 1000 for the pace).
FANS = 300
TG_BASE = 500_000


def _fans(count: int) -> list:
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                username=f"fan{i:04d}",
                email=f"fan{i:04d}@example.com",
                email_verified=True,
                telegram_id=TG_BASE + i,
                password="!",
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    fans = list(User.objects.order_by("pk"))
    # They opted in to promotions (marketing is off until a player turns it on).
    NotificationPreferences.objects.bulk_create(
        [NotificationPreferences(user=fan, promotional_offers=True) for fan in fans], batch_size=500
    )
    return fans


def _queued(**kwargs) -> Broadcast:
    """A broadcast composed in admin whose worker has not picked it up yet (a run asked to stop leaves it so)."""
    broadcasts.stop.set()
    try:
        broadcast, created = broadcast_compose(**kwargs)
    finally:
        broadcasts.stop.clear()
    assert created
    return broadcast


def _one_click(message) -> Client:
    """POST the List-Unsubscribe link the way a mail client does (RFC 8058): no cookie, no CSRF token."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip().strip("<>")
    client = Client(enforce_csrf_checks=True)
    response = client.post(urlparse(link).path, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content[:300]
    return response


def _stop_when(proc: subprocess.Popen, reached, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while not reached():
        if proc.poll() is not None:
            raise AssertionError(f"broadcast_send ended first: {proc.communicate()}")
        assert time.monotonic() < deadline, "the broadcast did not get that far"
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def test_a_broadcast_to_300_players_stopped_twice_and_resumed_sends_one_message_per_player_and_channel(tg, smtp):
    fans = _fans(FANS)
    broadcast = _queued(
        text="The December race starts now!", title="Race day", link="/races/", audience="everyone",
        channels=ALL, promotional=True,
    )  # fmt: skip
    assert broadcast_report(broadcast).by_channel == {c: {"pending": FANS} for c in ALL}

    env = child_env(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg_url(tg), EMAIL_URL=smtp.url,
        EMAIL_BROADCAST_PER_SECOND="0", TELEGRAM_BROADCAST_PER_SECOND="0",
    )  # fmt: skip
    command = [sys.executable, "manage.py", "broadcast_send", str(broadcast.pk)]

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # First run: stopped (SIGTERM) halfway through the emails, the site already done.
    out = _stop_when(start(), lambda: len(smtp.received) >= FANS // 2)
    assert "still pending" in out
    after_first = broadcast_report(broadcast).by_channel
    assert after_first["site"] == {"sent": FANS}
    assert 0 < after_first["email"].get("pending", 0) < FANS
    assert after_first["telegram"] == {"pending": FANS}
    # Second run: resumes the emails, stopped halfway through Telegram.
    out = _stop_when(start(), lambda: len(tg.sent()) >= FANS // 2)
    assert "still pending" in out
    assert 0 < broadcast_report(broadcast).by_channel["telegram"].get("pending", 0) < FANS
    # Third run: finishes.
    finished = manage("broadcast_send", str(broadcast.pk), env=env)
    assert finished.returncode == 0, finished.stderr
    assert "still pending" not in finished.stdout

    assert smtp.counts() == Counter({fan.email: 1 for fan in fans})
    assert Counter(int(c.params["chat_id"]) for c in tg.calls if c.method == "sendMessage") == Counter(
        {fan.telegram_id: 1 for fan in fans}
    )
    site = Counter(Notification.objects.filter(kind=Notification.Kind.ANNOUNCEMENT).values_list("user_id", flat=True))
    assert site == Counter({fan.pk: 1 for fan in fans})
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.DONE
    assert broadcast_report(broadcast).by_channel == {c: {"sent": FANS} for c in ALL}
    assert AuditEntry.objects.filter(action="broadcast.sent", target_id=str(broadcast.pk)).count() == 1
    # A fourth run (a retried task) sends nothing.
    again = manage("broadcast_send", str(broadcast.pk), env=env)
    assert again.returncode == 0
    assert sum(smtp.counts().values()) == FANS

    # Every email's one-click unsubscribe works without a session: that player gets no more promotions.
    message = smtp.to("fan0007@example.com")[0]
    assert "/notifications/unsubscribe/" in message.get_body(("plain",)).get_content()
    _one_click(message)
    assert NotificationPreferences.objects.get(user__username="fan0007").promotional_offers is False
    assert broadcast_preview("everyone", {}, ALL, promotional=True) == dict.fromkeys(ALL, FANS - 1)
    assert broadcast_preview("everyone", {}, ALL, promotional=False) == dict.fromkeys(ALL, FANS)


def tg_url(tg) -> str:
    from django.conf import settings

    return settings.TELEGRAM_API_URL


def test_the_newsletter_reaches_addresses_without_accounts_and_each_unsubscribes_in_one_click(tg, smtp):
    for address in ("one@example.com", "two@example.com", "gone@example.com"):
        NewsletterSubscription.objects.create(email=address, is_subscribed=True, confirmed_at=timezone.now())
    NewsletterSubscription.objects.filter(email="gone@example.com").update(is_subscribed=False)
    NewsletterSubscription.objects.create(email="unconfirmed@example.com")  # asked, never confirmed: not sent to
    assert broadcast_preview("newsletter", {}, ["email"], promotional=True) == {"email": 2}

    _broadcast, _ = broadcast_compose(
        text="What is new this month", title="Newsletter", audience="newsletter", channels=["email"]
    )
    assert smtp.counts() == Counter({"one@example.com": 1, "two@example.com": 1})
    message = smtp.to("two@example.com")[0]
    assert message.get_body(("html",)) is not None  # HTML and text parts
    # A mail scanner following the link (GET) unsubscribes no one; the one-click POST does.
    link = urlparse(message["List-Unsubscribe"].strip().strip("<>")).path
    assert Client().get(link).status_code == 200
    assert NewsletterSubscription.objects.get(email="two@example.com").is_subscribed
    assert "two@example.com" in _one_click(message).content.decode()
    assert not NewsletterSubscription.objects.get(email="two@example.com").is_subscribed
    assert broadcast_preview("newsletter", {}, ["email"], promotional=True) == {"email": 1}
    # A forged or truncated link is refused with a clear page, changing nothing.
    bad = Client(enforce_csrf_checks=True).post(link[:-8] + "xxxxxxx/", "List-Unsubscribe=One-Click",
                                                "application/x-www-form-urlencoded")  # fmt: skip
    assert bad.status_code == 400
    assert b"not valid" in bad.content
    assert NewsletterSubscription.objects.get(email="one@example.com").is_subscribed


def test_smtp_errors_a_busy_server_is_retried_a_refused_address_is_not(tg, smtp):
    fans = _fans(3)
    smtp.busy["fan0001@example.com"] = 1  # 451 once
    smtp.refuse.add("fan0002@example.com")  # 550
    broadcast = _queued(text="Hello", audience="everyone", channels=["email"], promotional=False)
    waits: list[float] = []  # the wait before the retry, recorded instead of slept
    report = broadcasts.broadcast_run(broadcast.pk, sleep=waits.append)
    assert report.by_channel == {"email": {"sent": 2, "failed": 1}}
    assert waits == [1]
    assert smtp.counts() == Counter({fans[0].email: 1, fans[1].email: 1})
    assert smtp.attempts["fan0002@example.com"] == 1  # refused for good: not asked again


def test_a_notification_email_is_retried_for_a_busy_server_only(smtp):
    from notifications.services import notify
    from tests.factories import UserFactory

    busy = UserFactory(email="busy@example.com", email_verified=True)
    refused = UserFactory(email="refused@example.com", email_verified=True)
    unconfirmed = UserFactory(email="new@example.com", email_verified=False)
    smtp.busy["busy@example.com"] = 2
    smtp.refuse.add("refused@example.com")
    for user in (busy, refused, unconfirmed):
        notify(user, "ticket.reply", title="Support replied", body="Hi")
    assert smtp.counts() == Counter({"busy@example.com": 1})
    assert smtp.attempts == Counter({"busy@example.com": 3, "refused@example.com": 1})
    # The site got all three, whatever happened to the emails.
    assert Notification.objects.filter(title="Support replied").count() == 3


def test_a_telegram_notification_is_retried_when_telegram_rate_limits_it_and_arrives_once(tg):
    from notifications.services import notify
    from tests.factories import UserFactory

    player = UserFactory(telegram_id=4242)
    tg.rate_limited = 2
    notify(player, "ticket.reply", title="Support replied", body="Hi")
    attempts = [c for c in tg.calls if c.method == "sendMessage"]
    # Two 429s, then delivered: a third refusal would have led to a fourth try.
    assert len(attempts) == 3
    assert tg.rate_limited == 0
    assert all("Support replied" in c.params["text"] for c in attempts)
