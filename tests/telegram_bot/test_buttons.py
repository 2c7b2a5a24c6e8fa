"""The bot's inline buttons and the commands added in the second round, through the real Dispatcher against the
fake Bot API server: buttons edit their own message, answer only the person they were made for, and every
command has a clear answer for bad arguments, unknown names and unlinked users."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import NotificationPreferences
from races.services.standings import races_refresh_after_sync
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory, WagerRaceFactory
from tests.telegram_bot.fake_telegram import button, message
from tests.telegram_bot.test_bot import OTHER_TG, PLAYER_TG, goat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]


def calls(tg, method: str) -> list[dict]:
    return [c.params for c in tg.calls if c.method == method]


def keyboard(params: dict) -> list[list[dict]]:
    markup = params["reply_markup"]
    return (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]


def test_help_has_buttons_for_the_main_things_scoped_to_who_asked(tg, feed_updates):
    feed_updates(message("/help", user_id=PLAYER_TG))
    rows = keyboard(calls(tg, "sendMessage")[-1])
    flat = {b["text"]: b for row in rows for b in row}
    assert set(flat) == {"🎰 Play", "🌐 Website", "📊 Stats", "🏆 Leaderboard", "🏁 Race", "🎁 Codes"}
    assert flat["🎰 Play"]["url"].endswith("/go/telegram-help/")  # REFERRAL_URL, counted
    assert flat["🏆 Leaderboard"]["callback_data"] == f"lb:monthly:{PLAYER_TG}"
    assert "/check_stats" in tg.last(PLAYER_TG)


def test_leaderboard_period_buttons_and_refresh_edit_the_message_in_place(tg, feed_updates):
    goat("Weekly<King>", wager_week=Decimal("900"), wager_month=Decimal("900"))
    feed_updates(message("/leaderboard", user_id=PLAYER_TG))
    sent_before = len(calls(tg, "sendMessage"))
    assert "Top 10 this month" in tg.last(PLAYER_TG)
    feed_updates(button(f"lb:weekly:{PLAYER_TG}", user_id=PLAYER_TG, message_id=77))
    edit = calls(tg, "editMessageText")[-1]
    assert int(edit["message_id"]) == 77
    assert "<b>Top 10 this week</b>\n1. Weekly&lt;King&gt; – $900.00" in edit["text"]
    assert [b["text"] for b in keyboard(edit)[0]] == ["Today", "• Week", "Month", "All time"]
    feed_updates(button(f"lb:weekly:{PLAYER_TG}", user_id=PLAYER_TG, message_id=77))  # Refresh, nothing new
    answer = calls(tg, "answerCallbackQuery")[-1]
    assert answer.get("text") == "Already up to date."
    assert len(calls(tg, "sendMessage")) == sent_before  # every press edited; none sent a new message


def test_someone_elses_button_is_refused_and_changes_nothing(tg, feed_updates):
    goat()
    feed_updates(button(f"lb:today:{PLAYER_TG}", user_id=OTHER_TG, chat_id=-5000, message_id=9))
    answer = calls(tg, "answerCallbackQuery")[-1]
    assert "belongs to whoever asked" in answer["text"]
    assert str(answer.get("show_alert")).lower() == "true"
    assert calls(tg, "editMessageText") == []


@pytest.mark.parametrize("data", ["lb:yearly:1001", "race:everyone:1001", "go:admin:1001", "lb:weekly:me", "lb"])
def test_forged_or_stale_button_data_is_refused_politely(tg, feed_updates, data):
    feed_updates(button(data, user_id=PLAYER_TG))
    assert calls(tg, "answerCallbackQuery")[-1]["text"] == "Unknown button."
    assert calls(tg, "editMessageText") == []


def test_race_refresh_and_around_me_edit_with_more_neighbours(tg, feed_updates):
    now = timezone.now()
    WagerRaceFactory(status="live", start_date=now, end_date=now + timedelta(days=2),
                     went_live_at=now, type="monthly", prize_distribution={"1": 100})  # fmt: skip
    players = [
        PlayerFactory(name=f"G{i}", wager_month=Decimal(100 * (i + 1)), wager_all_time=Decimal(100 * (i + 1)))
        for i in range(12)
    ]
    UserFactory(telegram_id=PLAYER_TG, player=players[5], verification_status="verified")
    races_refresh_after_sync(now)
    feed_updates(message("/race", user_id=PLAYER_TG))
    assert [b["text"] for b in keyboard(calls(tg, "sendMessage")[-1])[0]] == ["🔄 Refresh", "📍 Around me"]
    assert tg.last(PLAYER_TG).count("\n") < 16
    feed_updates(button(f"race:me:{PLAYER_TG}", user_id=PLAYER_TG, message_id=5))
    around = calls(tg, "editMessageText")[-1]["text"]
    assert "<b>7. G5 – $600.00 ← you</b>" in around
    assert "2. G10" in around
    assert "12. G0" in around  # five below, the last rank included


def test_help_stats_and_codes_buttons_answer_with_a_new_message(tg, feed_updates):
    feed_updates(button(f"go:stats:{PLAYER_TG}", user_id=PLAYER_TG), button(f"go:codes:{PLAYER_TG}", user_id=PLAYER_TG))
    stats, codes = tg.sent(PLAYER_TG)[-2:]
    assert "/verify" in stats  # not linked yet: told how
    assert "bonus codes" in codes.lower()


def test_website_links_the_site(tg, feed_updates, settings):
    settings.SITE_URL = "https://goatedvips.example"
    feed_updates(message("/website", user_id=PLAYER_TG))
    assert "https://goatedvips.example" in tg.last(PLAYER_TG)
    assert keyboard(calls(tg, "sendMessage")[-1])[0][0]["url"] == "https://goatedvips.example"


def test_check_stats_shows_public_figures_and_respects_privacy(tg, feed_updates):
    public = goat("OpenGoat", wager_month=Decimal("1234.5"), wager_all_time=Decimal("50000"))
    shy = goat("ShyGoat", wager_month=Decimal("10"))
    UserFactory(player=shy, show_stats=False)
    twin_a, twin_b = goat("Twin"), goat("twin")
    feed_updates(
        message("/check_stats opengoat", user_id=PLAYER_TG),
        message(f"/check_stats {public.uid}", user_id=PLAYER_TG),
        message("/check_stats ShyGoat", user_id=PLAYER_TG),
        message("/check_stats Twin", user_id=PLAYER_TG),
        message("/check_stats NoSuchGoat", user_id=PLAYER_TG),
        message("/check_stats", user_id=PLAYER_TG),
        message("/check_stats " + "x" * 70, user_id=PLAYER_TG),
    )
    by_name, by_uid, private, twins, unknown, usage, too_long = tg.sent(PLAYER_TG)[-7:]
    assert "<b>OpenGoat</b>" in by_name
    assert "$1,234.50" in by_name
    assert "VIP tier: <b>Silver</b>" in by_name
    assert by_uid == by_name
    assert private == "<b>ShyGoat</b> keeps their stats private."
    assert twin_a.uid in twins
    assert twin_b.uid in twins
    assert "I don't know a player called <b>NoSuchGoat</b>" in unknown
    assert usage.startswith("Usage: /check_stats")
    assert "longer than any Goated name" in too_long


def test_notify_switches_the_telegram_channel_for_a_linked_user(tg, feed_updates):
    user = UserFactory(telegram_id=PLAYER_TG)
    feed_updates(message("/notify off", user_id=PLAYER_TG))
    assert NotificationPreferences.objects.get(user=user).push_notifications is False
    assert "Off" in tg.last(PLAYER_TG)
    feed_updates(message("/notify ON", user_id=PLAYER_TG))
    assert NotificationPreferences.objects.get(user=user).push_notifications is True
    feed_updates(message("/notify maybe", user_id=PLAYER_TG))
    assert tg.last(PLAYER_TG).startswith("Usage: /notify")
    feed_updates(message("/notify off", user_id=OTHER_TG))
    assert "Link your site account first" in tg.last(OTHER_TG)
    feed_updates(message("/notify off", user_id=PLAYER_TG, chat_type="supergroup"))
    assert "private chat" in tg.last(-1000 - PLAYER_TG)
    assert NotificationPreferences.objects.get(user=user).push_notifications is True


def test_the_leaderboard_pages_through_the_top_with_prev_and_next(tg, feed_updates):
    for i in range(25):
        PlayerFactory(name=f"P{i:02d}", wager_month=Decimal(1000 - i))
    goat("Last", wager_month=Decimal("1"))  # ranks recomputed: 26 ranked this month
    feed_updates(message("/leaderboard", user_id=PLAYER_TG))
    assert [b["text"] for b in keyboard(calls(tg, "sendMessage")[-1])[1]] == ["🔄 Refresh", "Next ›"]
    feed_updates(button(f"lb:monthly.2:{PLAYER_TG}", user_id=PLAYER_TG, message_id=3))
    second = calls(tg, "editMessageText")[-1]
    assert second["text"].startswith("<b>Ranks 11–20 this month</b>\n11. P10")
    assert [b["text"] for b in keyboard(second)[1]] == ["‹ Prev", "🔄 Refresh", "Next ›"]
    feed_updates(button(f"lb:monthly.50:{PLAYER_TG}", user_id=PLAYER_TG, message_id=3))  # past the end: the last
    last = calls(tg, "editMessageText")[-1]
    assert last["text"].startswith("<b>Ranks 21–26 this month</b>")
    assert "26. Last" in last["text"]
    assert [b["text"] for b in keyboard(last)[1]] == ["‹ Prev", "🔄 Refresh"]
    feed_updates(
        button(f"lb:monthly.0:{PLAYER_TG}", user_id=PLAYER_TG), button(f"lb:monthly.x:{PLAYER_TG}", user_id=PLAYER_TG)
    )
    assert [c["text"] for c in calls(tg, "answerCallbackQuery")[-2:]] == ["Unknown button.", "Unknown button."]


def test_a_long_list_of_codes_says_how_many_more_wait_on_the_site(tg, feed_updates, settings):
    settings.SITE_URL = "https://goatedvips.example"
    for i in range(13):
        BonusCodeFactory(code=f"CODE{i:02d}", audience="everyone")
    feed_updates(message("/bonuscodes", user_id=PLAYER_TG))
    text = tg.last(PLAYER_TG)
    assert text.count("<code>") == 10
    assert "…and 3 more on the site: https://goatedvips.example/bonus-codes/" in text
