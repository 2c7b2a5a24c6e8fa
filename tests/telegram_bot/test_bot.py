"""The real aiogram Dispatcher against a local fake Bot API server."""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import TelegramLinkToken, User, VerificationRequest
from accounts.services import telegram_link_token_issue
from core.models import AuditEntry
from notifications.models import BotUser, Notification
from races.feed.ranks import player_ranks_recompute
from races.services.standings import races_refresh_after_sync
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory, WagerRaceFactory
from tests.telegram_bot.fake_telegram import TOKEN, button, message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]
PLAYER_TG, STAFF_TG, OTHER_TG = 1001, 2002, 3003


@pytest.fixture
def reviewer():
    user = UserFactory(username="reviewer", is_staff=True, telegram_id=STAFF_TG)
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.fixture
def operator():
    """May broadcast too (Support may not: core.roles)."""
    user = UserFactory(username="operator", is_staff=True, telegram_id=STAFF_TG)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


def goat(name="LuckyGoat88", **kw):
    player = PlayerFactory(name=name, **kw)
    player_ranks_recompute()
    return player


# --- player commands ----------------------------------------------------------------------------------------


def test_start_and_help_greet_and_list_commands(tg, feed_updates):
    feed_updates(message("/start", user_id=PLAYER_TG))
    assert "Welcome to GoatedVIPs" in tg.last(PLAYER_TG)
    feed_updates(message("/help", user_id=PLAYER_TG))
    assert "/stats" in tg.last(PLAYER_TG)
    assert "/broadcast" not in tg.last(PLAYER_TG)
    assert BotUser.objects.filter(telegram_id=PLAYER_TG).exists()


def test_unknown_commands_and_free_text_get_help_but_group_chatter_is_ignored(tg, feed_updates):
    feed_updates(message("/dance", user_id=PLAYER_TG), message("hello?", user_id=PLAYER_TG))
    assert all("I didn't get that" in t for t in tg.sent(PLAYER_TG)[-2:])
    before = len(tg.calls)
    feed_updates(message("nice win!", user_id=OTHER_TG, chat_type="supergroup"))
    assert len(tg.calls) == before


def test_leaderboard_and_play(tg, feed_updates):
    goat("Top<b>Goat", wager_month=Decimal("5000"))
    feed_updates(message("/leaderboard", user_id=PLAYER_TG), message("/play", user_id=PLAYER_TG))
    board, play = tg.sent(PLAYER_TG)[-2:]
    assert "1. Top&lt;b&gt;Goat – $5,000" in board  # feed names are escaped
    assert "/go/telegram-play/" in play  # the referral link, counted under its campaign


def test_join_enters_an_opt_in_race_or_says_why_not(tg, feed_updates):
    from races.models import RaceEntry, WagerRace

    feed_updates(message("/join", user_id=PLAYER_TG))
    assert "/verify" in tg.last(PLAYER_TG)
    player = goat(wager_month=Decimal("800"), wager_all_time=Decimal("12000"))
    UserFactory(telegram_id=PLAYER_TG, player=player, verification_status="verified")
    feed_updates(message("/join", user_id=PLAYER_TG))
    assert "No race is open for joining" in tg.last(PLAYER_TG)
    now = timezone.now()
    race = WagerRaceFactory(title="Opt <in> sprint", status="live", entry=WagerRace.Entry.OPT_IN,
                            start_date=now - timedelta(days=1), end_date=now + timedelta(days=2))  # fmt: skip
    feed_updates(message("/join", user_id=PLAYER_TG))
    assert tg.last(PLAYER_TG) == "✅ You're in <b>Opt &lt;in&gt; sprint</b>. Your wagers count from now on."
    assert RaceEntry.objects.get(race=race).source == RaceEntry.Source.BOT
    WagerRaceFactory(title="Another", status="upcoming", entry=WagerRace.Entry.OPT_IN)
    feed_updates(message("/join", user_id=PLAYER_TG), message("/join abc", user_id=PLAYER_TG),
                 message("/join 99999", user_id=PLAYER_TG))  # fmt: skip
    several, bad, missing = tg.sent(PLAYER_TG)[-3:]
    assert "Several races are open" in several
    assert f"#{race.pk} Opt &lt;in&gt; sprint" in several
    assert "like /join 12" in bad
    assert missing == "No such race."


def test_stats_and_race_need_a_verified_account(tg, feed_updates):
    feed_updates(message("/stats", user_id=PLAYER_TG))
    assert "/verify" in tg.last(PLAYER_TG)


def test_stats_and_race_for_a_linked_player(tg, feed_updates):
    player = goat(wager_month=Decimal("800"), wager_all_time=Decimal("12000"))
    goat("Leader", wager_month=Decimal("1000"), wager_all_time=Decimal("20000"))
    UserFactory(telegram_id=PLAYER_TG, player=player, verification_status="verified")
    now = timezone.now()
    WagerRaceFactory(
        status="live", start_date=now - timedelta(days=1), end_date=now + timedelta(days=2, hours=3),
        prize_distribution={"1": 60, "2": 40}, prize_pool=Decimal("100"),
    )  # fmt: skip
    races_refresh_after_sync(now)
    player_ranks_recompute()
    feed_updates(message("/stats", user_id=PLAYER_TG), message("/race", user_id=PLAYER_TG))
    stats, race = tg.sent(PLAYER_TG)[-2:]
    assert "LuckyGoat88" in stats
    assert "Bronze" in stats
    assert "to reach Silver" in stats
    assert "<b>Around you this month</b>\n1. Leader – $1,000.00\n<b>2. LuckyGoat88 – $800.00 ← you</b>" in stats
    assert "<b>Around you</b>\n1. Leader – $20,000.00\n<b>2. LuckyGoat88 – $12,000.00 ← you</b>" in race
    # A race that is not a calendar month counts all-time growth since it went live (docs/design.md §5).
    assert "You are <b>#2</b> with $12,000.00" in race
    assert "Current prize: $40.00" in race
    assert "$8,000.00 more to pass #1" in race
    assert "ends in 2d" in race


def test_bonus_codes_show_only_what_the_user_may_claim(tg, feed_updates):
    BonusCodeFactory(code="EVERYONE5", audience="everyone")
    BonusCodeFactory(code="VIPONLY9", audience="verified")
    feed_updates(message("/bonuscodes", user_id=PLAYER_TG))
    text = tg.last(PLAYER_TG)
    assert "EVERYONE5" in text
    assert "VIPONLY9" not in text


def test_bonus_codes_gated_by_tier_show_only_to_players_of_that_tier(tg, feed_updates):
    """The bot applies the site's visibility rule (vip.selectors.bonus_code_visible): the code the site would
    refuse is not listed."""
    from vip.models import VipTier

    BonusCodeFactory(code="GOLDONLY", min_tier=VipTier.objects.get(name="Gold"))
    UserFactory(username="bronze", telegram_id=PLAYER_TG, player=goat("Bronzie", wager_all_time=Decimal("15000")))
    UserFactory(username="gold", telegram_id=OTHER_TG, player=goat("Goldie", wager_all_time=Decimal("150000")))
    feed_updates(message("/bonuscodes", user_id=PLAYER_TG), message("/bonuscodes", user_id=OTHER_TG))
    assert "GOLDONLY" not in tg.last(PLAYER_TG)
    assert "GOLDONLY" in tg.last(OTHER_TG)
    feed_updates(message("/bonuscodes", user_id=STAFF_TG))  # not linked at all
    assert "GOLDONLY" not in tg.last(STAFF_TG)


# --- linking and verification: the full flow -----------------------------------------------------------------


def test_link_verify_and_approve_by_button_then_the_user_is_linked_and_told(tg, feed_updates, reviewer):
    site_user = UserFactory(username="siteuser")
    player = goat()
    token = telegram_link_token_issue(site_user)
    assert len(token) <= 64
    feed_updates(message(f"/start {token}", user_id=PLAYER_TG, username="luckytg"))
    assert "Linked to your site account <b>siteuser</b>" in tg.last(PLAYER_TG)
    site_user.refresh_from_db()
    assert (site_user.telegram_id, site_user.telegram_username) == (PLAYER_TG, "luckytg")

    feed_updates(message("/verify luckygoat88", user_id=PLAYER_TG))
    request = VerificationRequest.objects.get()
    assert (request.user, request.player, request.status) == (site_user, player, "pending")
    assert "waiting for staff review" in tg.last(PLAYER_TG)
    assert "Verification request" in tg.last(STAFF_TG)  # staff are told

    feed_updates(message("/pending", user_id=STAFF_TG))
    pending = [c for c in tg.calls if c.method == "sendMessage" and "reply_markup" in c.params][-1]
    assert "verif:approve:" in pending.params["reply_markup"]
    feed_updates(button(f"verif:approve:{request.pk}", user_id=STAFF_TG))
    site_user.refresh_from_db()
    assert site_user.player == player
    assert site_user.verification_status == "verified"
    assert "You are now linked" in tg.last(PLAYER_TG)
    assert Notification.objects.filter(user=site_user, kind="verification").exists()
    assert AuditEntry.objects.get(action="verification.approve").actor == reviewer


def test_link_codes_cannot_be_replayed_forged_or_used_after_expiry(tg, feed_updates):
    site_user = UserFactory()
    token = telegram_link_token_issue(site_user)
    feed_updates(message(f"/start {token}", user_id=PLAYER_TG))
    feed_updates(message(f"/start {token}", user_id=OTHER_TG))
    assert "already used" in tg.last(OTHER_TG)
    forged = token[:12] + "A" * 22
    feed_updates(message(f"/start {forged}", user_id=OTHER_TG))
    assert "not valid" in tg.last(OTHER_TG)
    late = telegram_link_token_issue(UserFactory())
    TelegramLinkToken.objects.filter(nonce=late[:12]).update(expires_at=timezone.now() - timedelta(seconds=1))
    feed_updates(message(f"/start {late}", user_id=OTHER_TG))
    assert "expired" in tg.last(OTHER_TG)
    assert User.objects.filter(telegram_id=OTHER_TG).count() == 0


def test_verify_rules(tg, feed_updates):
    goat()
    taken = goat("Taken")
    UserFactory(player=taken)
    feed_updates(message("/verify LuckyGoat88", user_id=PLAYER_TG, chat_type="group"))
    assert "private chat" in tg.last(-1000 - PLAYER_TG)
    feed_updates(message("/verify", user_id=PLAYER_TG))
    assert "Tell me your Goated username" in tg.last(PLAYER_TG)
    feed_updates(message("/verify Nobody", user_id=PLAYER_TG))
    assert "No player called “Nobody”" in tg.last(PLAYER_TG)
    feed_updates(message("/verify Taken", user_id=PLAYER_TG))
    assert "already linked to another account" in tg.last(PLAYER_TG)
    feed_updates(message("/verify LuckyGoat88", user_id=PLAYER_TG), message("/verify LuckyGoat88", user_id=PLAYER_TG))
    assert "already have a request waiting" in tg.last(PLAYER_TG)
    assert VerificationRequest.objects.count() == 1


def test_staff_commands_are_refused_to_players_and_reject_works_with_a_reason(tg, feed_updates, reviewer):
    goat()
    feed_updates(message("/verify LuckyGoat88", user_id=PLAYER_TG))
    request = VerificationRequest.objects.get()
    for command in ("/pending", f"/approve {request.pk}", "/broadcast hi"):
        feed_updates(message(command, user_id=OTHER_TG))
        assert "for staff" in tg.last(OTHER_TG)
    feed_updates(message(f"/reject {request.pk} not your account", user_id=STAFF_TG))
    assert f"Rejected #{request.pk}" in tg.last(STAFF_TG)
    assert "not your account" in tg.last(PLAYER_TG)
    feed_updates(message(f"/approve {request.pk}", user_id=STAFF_TG))
    assert "already rejected" in tg.last(STAFF_TG)
    feed_updates(message("/approve abc", user_id=STAFF_TG))
    assert "Usage" in tg.last(STAFF_TG)


def test_a_bot_decision_writes_the_same_single_audit_entry_as_admin(tg, feed_updates, reviewer):
    goat()
    feed_updates(message("/verify LuckyGoat88", user_id=PLAYER_TG))
    request = VerificationRequest.objects.get()
    feed_updates(
        message(f"/approve {request.pk}", user_id=STAFF_TG), message(f"/approve {request.pk}", user_id=STAFF_TG)
    )
    entries = AuditEntry.objects.filter(action__startswith="verification.")
    assert [(e.action, e.actor, e.source, e.target_id) for e in entries] == [
        ("verification.approve", reviewer, "bot", str(request.pk))
    ]


def test_commands_are_rate_limited_per_user_with_a_polite_reply(tg, feed_updates, settings, ratelimit_clock):
    settings.TELEGRAM_COMMANDS_PER_MINUTE = 3
    feed_updates(*[message("/help", user_id=PLAYER_TG) for _ in range(4)])
    assert "too fast" in tg.last(PLAYER_TG)
    assert sum("/stats" in text for text in tg.sent(PLAYER_TG)) == 3
    feed_updates(message("/help", user_id=OTHER_TG))
    assert "/stats" in tg.last(OTHER_TG)
    ratelimit_clock.advance(60)  # a minute later: allowed again
    feed_updates(message("/help", user_id=PLAYER_TG))
    assert "/stats" in tg.last(PLAYER_TG)


def test_the_bot_counts_commands_with_the_sites_rate_limiter(tg, feed_updates, settings):
    """One mechanism: the bot's count lives in django-ratelimit's counter (same cache, same keys)."""
    from core.ratelimit import rate_count

    settings.TELEGRAM_COMMANDS_PER_MINUTE = 3
    feed_updates(*[message("/help", user_id=PLAYER_TG) for _ in range(2)])
    assert rate_count("telegram-commands", str(PLAYER_TG), "3/m") == 3  # the two commands, and this count
    feed_updates(message("/help", user_id=PLAYER_TG))
    assert "too fast" in tg.last(PLAYER_TG)


def test_commands_are_not_limited_when_the_cache_cannot_count(tg, feed_updates, settings, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    settings.TELEGRAM_COMMANDS_PER_MINUTE = 1
    monkeypatch.setattr(cache, "add", down)  # "no cache, no limit: better than no bot"
    feed_updates(*[message("/help", user_id=PLAYER_TG) for _ in range(3)])
    assert [("/stats" in text) for text in tg.sent(PLAYER_TG)] == [True, True, True]


# --- broadcast ----------------------------------------------------------------------------------------------


class SteppedClock:
    """Time that passes only when someone sleeps: the pace's schedule, exact and machine-independent, without
    the wait."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_broadcast_to_1000_users_respects_the_pace_and_skips_blocked_users(tg, settings, reviewer, monkeypatch):
    from notifications import broadcasts
    from notifications.broadcasts import broadcast_create, broadcast_recipients, broadcast_run

    settings.TELEGRAM_BROADCAST_PER_SECOND = 200
    clock = SteppedClock()  # the pace waits on it, and the fake Telegram stamps each message with it
    monkeypatch.setattr(broadcasts, "_Pace", functools.partial(broadcasts._Pace, clock=clock.monotonic,
                                                               sleep=clock.sleep))  # fmt: skip
    tg.clock = clock.monotonic
    users = [
        User(username=f"fan{i}", email=f"fan{i}@example.com", telegram_id=50_000 + i, verification_status="verified")
        for i in range(1000)
    ]
    User.objects.bulk_create(users)
    tg.blocked = {50_007, 50_500}
    BotUser.objects.create(telegram_id=50_999, blocked_at=timezone.now())  # blocked earlier: not even tried

    recipients = broadcast_recipients("verified", {}, ["telegram"], promotional=False)
    broadcast, _ = broadcast_create(text="Monthly race starts now!", recipients=recipients, actor=reviewer)
    report = broadcast_run(broadcast.pk)
    assert (report.recipients, report.sent, report.blocked) == (999, 997, 2)
    stamps = sorted(c.at for c in tg.calls if c.method == "sendMessage")
    assert len(stamps) == 999
    # The schedule, exactly: no two messages closer than 1/rate, so never more than the rate in any one-second
    # window (+1: a stamp that float rounding puts just inside a window's closing edge), and no faster overall.
    assert min(b - a for a, b in itertools.pairwise(stamps)) >= 1 / 200 - 1e-9
    window = [j - i for i, j in zip(range(len(stamps)), _window_ends(stamps, 1.0), strict=True)]
    assert max(window) <= 200 + 1
    assert stamps[-1] - stamps[0] >= (999 - 1) / 200 - 1e-6
    assert BotUser.objects.filter(telegram_id__in=[50_007, 50_500], blocked_at__isnull=False).count() == 2


def test_broadcast_retries_a_rate_limited_telegram_delivery_and_gives_up_after_three_tries(tg, reviewer):
    """Telegram refusing for now (429) costs a retry, not the message; three refusals in a row mark it failed
    and the broadcast moves on to the next recipient. The waits Telegram asked for (retry_after) are recorded
    instead of slept."""
    from notifications import broadcasts
    from notifications.broadcasts import SEND_ATTEMPTS, broadcast_create, broadcast_recipients, broadcast_run
    from notifications.models import BroadcastDelivery

    first = User.objects.create(
        username="fan1", email="fan1@example.com", telegram_id=60_001, verification_status="verified"
    )
    second = User.objects.create(
        username="fan2", email="fan2@example.com", telegram_id=60_002, verification_status="verified"
    )
    recipients = broadcast_recipients("verified", {}, ["telegram"], promotional=False)
    # Every try of the first recipient, all but the last of the second's.
    tg.rate_limited = SEND_ATTEMPTS + SEND_ATTEMPTS - 1
    broadcasts.stop.set()  # the run the worker starts leaves it all pending: this test runs it, recording waits
    try:
        broadcast, _ = broadcast_create(text="Race day!", recipients=recipients, actor=reviewer)
    finally:
        broadcasts.stop.clear()
    waits: list[float] = []
    broadcast_run(broadcast.pk, sleep=waits.append)
    assert waits == [tg.retry_after] * 4  # after each refused try but the last, for each recipient
    report = broadcast_run(broadcast.pk)  # a second run: nothing left to send
    calls = [int(c.params["chat_id"]) for c in tg.calls if c.method == "sendMessage"]
    assert calls == [first.telegram_id] * SEND_ATTEMPTS + [second.telegram_id] * SEND_ATTEMPTS
    statuses = dict(BroadcastDelivery.objects.filter(broadcast=broadcast).values_list("recipient", "status"))
    assert statuses == {str(first.telegram_id): "failed", str(second.telegram_id): "sent"}
    assert (report.sent, report.failed) == (1, 1)


def _window_ends(stamps: list[float], width: float) -> list[int]:
    ends, j = [], 0
    for start in stamps:
        while j < len(stamps) and stamps[j] < start + width:
            j += 1
        ends.append(j)
    return ends


def test_broadcast_command_reports_progress_and_is_audited(tg, feed_updates, operator, settings):
    settings.TELEGRAM_BROADCAST_PER_SECOND = 1000
    UserFactory(telegram_id=70_001, verification_status="verified")
    feed_updates(message("/broadcast New race!", user_id=STAFF_TG))
    assert "Broadcast done: 1 sent" in tg.last(STAFF_TG)
    assert tg.last(70_001) == "New race!"
    assert AuditEntry.objects.get(action="broadcast.sent").actor == operator


# --- webhook ------------------------------------------------------------------------------------------------


def test_webhook_checks_the_secret_and_never_asks_telegram_to_retry(tg, client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-value"
    update = json.dumps(message("/start", user_id=PLAYER_TG))
    url = "/telegram/webhook/"
    assert client.post(url, update, content_type="application/json").status_code == 401
    wrong = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "nope"}
    assert client.post(url, update, content_type="application/json", **wrong).status_code == 401
    good = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "s3cret-value"}
    assert client.post(url, "{not json", content_type="application/json", **good).status_code == 200
    assert client.post(url, "[1, 2]", content_type="application/json", **good).status_code == 200
    assert not tg.sent()
    assert client.post(url, update, content_type="application/json", **good).status_code == 200
    assert "Welcome to GoatedVIPs" in tg.wait_for(PLAYER_TG, "Welcome to GoatedVIPs")


def test_a_webhook_update_delivered_three_times_broadcasts_once(tg, client, settings, operator):
    """Telegram redelivers an update it thinks was lost; the webhook answers at once and handles it once, and a
    broadcast is one broadcast however often its command arrives."""
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-value"
    settings.TELEGRAM_BROADCAST_PER_SECOND = 1000
    fans = [UserFactory(telegram_id=80_000 + i, verification_status="verified") for i in range(5)]
    update = message("/broadcast Race day!", user_id=STAFF_TG)
    good = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "s3cret-value"}
    tg.hold = threading.Event()  # Telegram answers nothing yet: the handler cannot finish before we let it
    try:
        for _ in range(3):
            response = client.post("/telegram/webhook/", json.dumps(update), content_type="application/json", **good)
            assert response.status_code == 200
        handlers = _handler_threads(update)
        assert len(handlers) == 1  # handled once...
        assert handlers[0].is_alive()  # ...and all three answered before it was done
    finally:
        tg.hold.set()
    tg.wait_for(STAFF_TG, "Broadcast done: 5 sent")
    handlers[0].join(10)  # the only run there was: everything it sent is in
    assert all(tg.sent(fan.telegram_id) == ["Race day!"] for fan in fans)
    assert AuditEntry.objects.filter(action="broadcast.sent").count() == 1
    # The same command handled again (a retried task) sends nothing either.
    from notifications.broadcasts import broadcast_run
    from notifications.models import Broadcast

    report = broadcast_run(Broadcast.objects.get().pk)
    assert (report.recipients, report.sent) == (5, 5)
    assert all(len(tg.sent(fan.telegram_id)) == 1 for fan in fans)


def test_every_name_in_a_message_is_escaped(tg, feed_updates):
    UserFactory(username="odd", telegram_id=PLAYER_TG, player=goat("<b>Bad</b> & Co >"), verification_status="verified")
    feed_updates(message("/start", user_id=PLAYER_TG, first_name="<i>x</i> & <y>"))
    assert "Welcome to GoatedVIPs, &lt;i&gt;x&lt;/i&gt; &amp; &lt;y&gt;!" in tg.last(PLAYER_TG)
    feed_updates(message("/stats", user_id=PLAYER_TG))
    assert tg.last(PLAYER_TG).startswith("<b>&lt;b&gt;Bad&lt;/b&gt; &amp; Co &gt;</b>")
    feed_updates(message("/leaderboard", user_id=PLAYER_TG))
    assert "&lt;b&gt;Bad&lt;/b&gt; &amp; Co &gt;" in tg.last(PLAYER_TG)


def test_staff_commands_are_refused_in_group_chats(tg, feed_updates, operator):
    for command in ("/pending", "/approve 1", "/reject 1 no", "/broadcast hi"):
        feed_updates(message(command, user_id=STAFF_TG, chat_type="supergroup"))
        assert "only in a private chat" in tg.last(-1000 - STAFF_TG)


def test_a_message_with_unstorable_text_is_refused_politely(tg, feed_updates):
    feed_updates(message("/verify Lucky\x00Goat", user_id=PLAYER_TG))
    assert "characters I can't use" in tg.last(PLAYER_TG)


# --- login widget -------------------------------------------------------------------------------------------


def _signed(fields: dict) -> dict:
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hashlib.sha256(TOKEN.encode()).digest()
    return {**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}


def test_telegram_login_widget(tg, client):
    user = UserFactory(username="tgfan", telegram_id=PLAYER_TG)
    fields = {"id": str(PLAYER_TG), "first_name": "Goat", "username": "tgfan", "auth_date": str(int(time.time()))}
    response = client.post("/accounts/telegram/login/", _signed(fields))
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    tampered = {**_signed(fields), "id": str(OTHER_TG)}
    assert client.post("/accounts/telegram/login/", tampered)["Location"] == "/accounts/login/"
    stale = _signed({**fields, "auth_date": str(int(time.time()) - 2 * 86400)})
    client.post("/accounts/telegram/login/", stale)
    assert "_auth_user_id" not in client.session


def test_a_telegram_login_payload_works_once_within_five_minutes_and_never_for_staff(tg, client):
    player = UserFactory(username="tgfan", telegram_id=PLAYER_TG)
    fresh = _signed({"id": str(PLAYER_TG), "first_name": "Goat", "auth_date": str(int(time.time()))})
    assert client.get("/accounts/telegram/login/", fresh).status_code == 405  # never credentials in a URL
    client.post("/accounts/telegram/login/", fresh)
    assert client.session["_auth_user_id"] == str(player.pk)
    client.logout()
    replay = client.post("/accounts/telegram/login/", fresh, follow=True)
    assert "_auth_user_id" not in client.session
    assert "already used" in replay.content.decode()
    six_minutes_old = _signed({"id": str(PLAYER_TG), "first_name": "Goat", "auth_date": str(int(time.time()) - 360)})
    assert "expired" in client.post("/accounts/telegram/login/", six_minutes_old, follow=True).content.decode()
    assert "_auth_user_id" not in client.session
    UserFactory(username="boss", telegram_id=STAFF_TG, is_staff=True)
    staff = _signed({"id": str(STAFF_TG), "first_name": "Boss", "auth_date": str(int(time.time()))})
    refused = client.post("/accounts/telegram/login/", staff, follow=True).content.decode()
    assert "Staff accounts sign in with their password" in refused
    assert "_auth_user_id" not in client.session


# --- notifications out of the site --------------------------------------------------------------------------


def test_outgoing_messages_classify_not_sent_uncertain_and_permanent_answers(tg, httpserver):
    from notifications.telegram import TelegramTransient, telegram_send_message

    assert telegram_send_message(PLAYER_TG, "hi") == "sent"
    tg.blocked = {OTHER_TG}
    assert telegram_send_message(OTHER_TG, "hi") == "blocked"
    assert BotUser.objects.get(telegram_id=OTHER_TG).blocked_at is not None
    httpserver.clear()
    path = f"/bot{TOKEN}/sendMessage"
    httpserver.expect_ordered_request(path).respond_with_json(
        {"ok": False, "error_code": 429, "parameters": {"retry_after": 7}}, status=429
    )
    httpserver.expect_ordered_request(path).respond_with_json({"ok": False, "error_code": 502}, status=502)
    httpserver.expect_ordered_request(path).respond_with_json(
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, status=400
    )
    with pytest.raises(TelegramTransient) as limited:  # refused by Telegram, so not sent: worth a retry
        telegram_send_message(PLAYER_TG, "hi")
    assert limited.value.retry_after == 7
    # Taken, then failed somewhere we cannot see: it may have arrived, so it is never sent again.
    assert telegram_send_message(PLAYER_TG, "hi") == "uncertain"
    assert telegram_send_message(PLAYER_TG, "hi") == "gone"  # permanent: no retry


def test_outgoing_messages_share_one_http_client_per_process(tg, monkeypatch):
    """A broadcast sends thousands of messages: one kept-alive client per process, not one (and a TLS context)
    per message; a forked child (another process id) makes its own."""
    from notifications import telegram

    assert telegram.telegram_send_message(PLAYER_TG, "one") == "sent"
    client = telegram._http()
    assert telegram.telegram_send_message(PLAYER_TG, "two") == "sent"
    assert telegram._http() is client
    assert [c.params["text"] for c in tg.calls if c.method == "sendMessage"][-2:] == ["one", "two"]
    monkeypatch.setattr(telegram.os, "getpid", lambda: -1)  # what a forked worker sees
    assert telegram._http() is not client


def test_race_winners_get_a_telegram_dm_when_linked_and_allowed(tg):
    from races.services.lifecycle import race_finalize

    now = timezone.now()
    race = WagerRaceFactory(
        status="live", start_date=now - timedelta(days=1), end_date=now + timedelta(hours=1),
        prize_distribution={"1": 60, "2": 40}, prize_pool=Decimal("100"), title="Sprint",
    )  # fmt: skip
    winner, quiet = goat("Winner", wager_all_time=Decimal("900")), goat("Quiet", wager_all_time=Decimal("500"))
    UserFactory(player=winner, telegram_id=PLAYER_TG)
    muted = UserFactory(player=quiet, telegram_id=OTHER_TG)
    from notifications.models import NotificationPreferences

    NotificationPreferences.objects.create(user=muted, push_notifications=False)
    races_refresh_after_sync(now)
    race_finalize(race.pk, force=True)
    assert "You finished #1 in Sprint" in tg.last(PLAYER_TG)
    assert not tg.sent(OTHER_TG)


@pytest.mark.parametrize(
    ("command", "expected"),
    [("/help", "/stats"), ("/leaderboard", "this month"), ("/play", "/go/telegram-play/"), ("/stats", "/verify"),
     ("/race", "No race is live"), ("/bonuscodes", "No bonus codes"), ("/pending", "for staff")],
)  # fmt: skip
def test_commands_also_answer_in_group_chats(tg, feed_updates, command, expected):
    feed_updates(message(command, user_id=PLAYER_TG, chat_type="supergroup"))
    assert expected in tg.last(-1000 - PLAYER_TG)


def test_a_linked_player_who_takes_the_lead_is_told_once(tg):
    now = timezone.now()
    WagerRaceFactory(
        status="live", start_date=now - timedelta(days=1), end_date=now + timedelta(days=1), title="Lead Race",
        prize_distribution={"1": 100},
    )  # fmt: skip
    leader = goat("Leader", wager_all_time=Decimal("900"))
    chaser = goat("Chaser", wager_all_time=Decimal("500"))
    user = UserFactory(player=chaser, telegram_id=PLAYER_TG)
    races_refresh_after_sync(now)
    assert not tg.sent(PLAYER_TG)
    type(chaser).objects.filter(pk=chaser.pk).update(wager_all_time=Decimal("1000"))
    races_refresh_after_sync(now + timedelta(minutes=1))
    assert "You took the lead in Lead Race" in tg.last(PLAYER_TG)
    assert Notification.objects.filter(user=user, dedupe_key__startswith="race-lead:").count() == 1
    type(leader).objects.filter(pk=leader.pk).update(wager_all_time=Decimal("2000"))
    races_refresh_after_sync(now + timedelta(minutes=2))
    type(chaser).objects.filter(pk=chaser.pk).update(wager_all_time=Decimal("3000"))
    races_refresh_after_sync(now + timedelta(minutes=3))
    leads = [text for text in tg.sent(PLAYER_TG) if "took the lead" in text]
    assert len(leads) == 1  # back in the lead: not told twice
    assert any("Leader overtook you in Lead Race" in text for text in tg.sent(PLAYER_TG))  # told when passed


def _handler_threads(update: dict) -> list[threading.Thread]:
    """The threads handling this update (embedded mode hands each webhook update to one)."""
    return [t for t in threading.enumerate() if t.name == f"telegram-update-{update['update_id']}"]


def test_the_webhook_answers_before_the_update_is_handled_even_when_telegram_hangs(tg, client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret"
    tg.hold = threading.Event()  # no reply reaches Telegram until released: the handler is slow, the webhook isn't
    update = message("/help", user_id=PLAYER_TG)
    try:
        response = client.post("/telegram/webhook/", data=json.dumps(update), content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})  # fmt: skip
        assert response.status_code == 200
        handlers = _handler_threads(update)
        assert len(handlers) == 1
        assert handlers[0].is_alive()  # the webhook answered first; the handler still waits on Telegram
    finally:
        tg.hold.set()
    assert "/stats" in tg.wait_for(PLAYER_TG, "/stats", timeout=15)  # and the answer still goes out
    for worker in threading.enumerate():  # let the handler finish (and log) while this test still runs
        if worker.name.startswith("telegram-update-"):
            worker.join(10)
