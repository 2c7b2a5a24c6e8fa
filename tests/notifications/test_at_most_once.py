"""At most once: a Telegram message or an email that may already have been delivered is never sent again. Only
what provably did not arrive is retried (a refused connection, Telegram's 429, an SMTP 4xx or a connection lost
before the message ended); what may have arrived (no answer in time, a connection lost after the message, a 5xx
from Telegram) is recorded "uncertain". Real local servers throughout: the fake Bot API and an SMTP server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from prometheus_client import REGISTRY
from pytest_httpserver import HTTPServer

from notifications.broadcasts import broadcast_compose, broadcast_report
from notifications.models import BroadcastDelivery, EmailLog
from tests.realtime.servers import free_port
from tests.telegram_bot import fake_telegram

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()
CHAT = 70_001


def _sends(tg) -> list[int]:
    return [int(c.params["chat_id"]) for c in tg.calls if c.method == "sendMessage"]


def _statuses(broadcast) -> dict[str, str]:
    return dict(BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("recipient", "status"))


def _fan(**kwargs):
    defaults = {"username": "fan", "email": "fan@example.com", "email_verified": True, "telegram_id": CHAT}
    return User.objects.create(**{**defaults, **kwargs})


def _counted(channel: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("goatedvips_notification_sends_total", {"channel": channel, "outcome": outcome})
    return value or 0.0


@pytest.fixture
def slow_telegram(tg, settings):
    """The Bot API takes every message (it is recorded) and then answers later than the client waits."""
    settings.TELEGRAM_SEND_TIMEOUT = 0.5
    tg.hold = threading.Event()
    yield tg
    tg.hold.set()


# --- (a) Telegram takes the message, the answer comes too late: uncertain, sent once -------------------------------


def test_a_broadcast_message_whose_answer_times_out_is_sent_once_and_recorded_uncertain(slow_telegram):
    """Reproduced on the parent commit: the stub received the message 3 times (a read timeout was retried)."""
    _fan()
    broadcast, _ = broadcast_compose(text="Race day!", audience="everyone", channels=["telegram"], promotional=False)
    assert _sends(slow_telegram) == [CHAT]
    assert _statuses(broadcast) == {str(CHAT): "uncertain"}
    report = broadcast_report(broadcast)
    assert (report.sent, report.failed, report.uncertain, report.pending) == (0, 0, 1, 0)
    assert report.by_channel == {"telegram": {"uncertain": 1}}


def test_a_notification_whose_answer_times_out_is_sent_once_not_retried(slow_telegram):
    from notifications.services import notify
    from notifications.tasks import telegram_message_send_task

    uncertain_before = _counted("telegram", "uncertain")
    notify(_fan(), "ticket.reply", title="Support replied", body="Hi")
    assert _sends(slow_telegram) == [CHAT]  # the parent commit sent it 6 times (5 retries)
    assert _counted("telegram", "uncertain") - uncertain_before == 1
    assert telegram_message_send_task.apply(args=(CHAT, "again")).get() == "uncertain"


def test_an_announcement_whose_answer_times_out_is_posted_once(slow_telegram, settings):
    from notifications.services import announce

    settings.TELEGRAM_ANNOUNCE_CHAT_ID = "-100777"
    assert announce("race-live:1", "Race 1 is live")
    assert _sends(slow_telegram) == [-100777]


def test_a_bot_reply_whose_answer_times_out_is_sent_once(slow_telegram):
    from aiogram.exceptions import TelegramNetworkError

    from telegram_bot.bot import bot_create, dispatcher_create

    async def handle(update: dict) -> None:
        bot = bot_create()
        try:
            await dispatcher_create().feed_raw_update(bot, update)
        finally:
            await bot.session.close()

    with pytest.raises(TelegramNetworkError):  # the handler's error: logged by the task, never retried
        asyncio.run(handle(fake_telegram.message("/help", user_id=CHAT)))
    assert _sends(slow_telegram) == [CHAT]


def test_a_5xx_from_telegram_is_uncertain_not_retried(tg):
    """Telegram (or the proxy before it) took the request and failed after: it may have gone out."""
    _fan()
    tg.failing = 3
    broadcast, _ = broadcast_compose(text="Race day!", audience="everyone", channels=["telegram"], promotional=False)
    assert _sends(tg) == [CHAT]
    assert _statuses(broadcast) == {str(CHAT): "uncertain"}


def test_the_send_tasks_are_acknowledged_on_receipt_so_a_lost_worker_never_sends_twice():
    from notifications.tasks import notification_email_task, telegram_message_send_task
    from telegram_bot.tasks import telegram_update_task

    assert not telegram_message_send_task.acks_late
    assert not notification_email_task.acks_late
    assert not telegram_update_task.acks_late


# --- (b) a refused connection: nothing was sent, so it is retried ----------------------------------------------


def test_a_refused_connection_is_retried_and_the_message_arrives_once(tg, settings):
    """Nothing listens on the Bot API's port at first (connection refused); it comes up while the broadcast
    waits to retry, and the message arrives once."""
    port = free_port()
    settings.TELEGRAM_API_URL = f"http://127.0.0.1:{port}"
    _fan()
    retries_before = _counted("telegram", "retry")
    late = HTTPServer(host="127.0.0.1", port=port)
    late_tg: list = []

    def come_up() -> None:  # once the first attempt was refused (counted), start the Bot API on that port
        deadline = time.monotonic() + 10
        while _counted("telegram", "retry") == retries_before and time.monotonic() < deadline:
            time.sleep(0.01)
        late_tg.append(fake_telegram.install(late))
        late.start()

    starter = threading.Thread(target=come_up)
    starter.start()
    try:
        broadcast, _ = broadcast_compose(text="Hi", audience="everyone", channels=["telegram"], promotional=False)
        starter.join()
        assert _counted("telegram", "retry") - retries_before == 1
        assert _sends(late_tg[0]) == [CHAT]
        assert _statuses(broadcast) == {str(CHAT): "sent"}
    finally:
        starter.join()
        if late.is_running():
            late.stop()


def test_a_refused_connection_is_not_sent_and_worth_a_retry(settings):
    from notifications.telegram import TelegramTransient, telegram_send_message

    settings.TELEGRAM_BOT_TOKEN = fake_telegram.TOKEN
    settings.TELEGRAM_API_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TelegramTransient, match="ConnectError"):
        telegram_send_message(CHAT, "hi")


# --- (c) Telegram's 429: not sent, retried after the wait it asks for ----------------------------------------------


def test_a_429_is_retried_after_telegrams_retry_after(tg):
    _fan()
    tg.rate_limited, tg.retry_after = 1, 2
    broadcast, _ = broadcast_compose(text="Hi", audience="everyone", channels=["telegram"], promotional=False)
    tries = [c.at for c in tg.calls if c.method == "sendMessage"]
    assert len(tries) == 2
    assert tries[1] - tries[0] >= 2  # waited what Telegram asked for
    assert _statuses(broadcast) == {str(CHAT): "sent"}


# --- (d) email: 4xx retried, 5xx failed, a connection lost after the message uncertain -----------------------------


def test_smtp_4xx_is_retried_5xx_fails_at_once_and_a_connection_lost_before_the_message_is_retried(tg, smtp):
    _fan(username="busy", email="busy@example.com", telegram_id=None)
    _fan(username="refused", email="refused@example.com", telegram_id=None)
    _fan(username="dropped", email="dropped@example.com", telegram_id=None)
    smtp.busy["busy@example.com"] = 1  # 451 once
    smtp.refuse.add("refused@example.com")  # 550
    smtp.drop_at_rcpt["dropped@example.com"] = 1  # the connection lost before DATA: nothing was taken
    broadcast, _ = broadcast_compose(text="Hello", audience="everyone", channels=["email"], promotional=False)
    assert _statuses(broadcast) == {"busy@example.com": "sent", "refused@example.com": "failed",
                                    "dropped@example.com": "sent"}  # fmt: skip
    assert smtp.counts() == Counter({"busy@example.com": 1, "dropped@example.com": 1})
    assert smtp.attempts == Counter({"busy@example.com": 2, "refused@example.com": 1, "dropped@example.com": 2})


def test_a_broadcast_email_whose_connection_drops_after_data_is_uncertain_and_sent_once(tg, smtp):
    """Reproduced on the parent commit: the server took the message 3 times."""
    _fan(email="lost@example.com", telegram_id=None)
    smtp.drop_after_data.add("lost@example.com")
    broadcast, _ = broadcast_compose(text="Hello", audience="everyone", channels=["email"], promotional=False)
    assert smtp.counts() == Counter({"lost@example.com": 1})
    assert _statuses(broadcast) == {"lost@example.com": "uncertain"}
    assert broadcast_report(broadcast).uncertain == 1


def test_a_notification_email_whose_connection_drops_after_data_is_sent_once(smtp):
    from notifications.services import notify
    from notifications.tasks import notification_email_task

    user = _fan(email="lost@example.com", telegram_id=None)
    smtp.drop_after_data.add("lost@example.com")
    note = notify(user, "ticket.reply", title="Support replied", body="Hi")
    assert smtp.counts() == Counter({"lost@example.com": 1})  # the parent commit sent it 7 times
    assert notification_email_task.apply(args=(note.pk,)).get() == "uncertain"


def test_a_statement_whose_connection_drops_after_data_keeps_its_key_marked_uncertain(smtp):
    from notifications.services import notify

    user = _fan(email="lost@example.com", telegram_id=None)
    smtp.drop_after_data.add("lost@example.com")
    statement = {"user": user, "s": None}
    kwargs = {"title": "Your statement", "dedupe_key": "statement:1", "context": statement}
    log = notify(user, "statement.monthly", **kwargs)
    assert log.status == EmailLog.Status.UNCERTAIN
    # The next run finds the key taken: the statement that may have arrived is not sent again.
    assert notify(user, "statement.monthly", **kwargs) is None
    assert smtp.counts() == Counter({"lost@example.com": 1})
    assert EmailLog.objects.get(key="statement:1").status == "uncertain"
