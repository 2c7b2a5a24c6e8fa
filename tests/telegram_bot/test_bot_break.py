"""The bot's /privacy (full, masked, hidden for the linked player) and /break (a signed one-time link to the site's
confirmation page: no password in Telegram), and the end of a break announced to the player once."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.selfexclusion import self_exclusion_end_announce, self_exclusion_start
from accounts.tasks import self_exclusion_end_announce_task
from core.models import AuditEntry
from notifications.models import Notification
from races.models import Player
from tests.factories import PlayerFactory, UserFactory
from tests.telegram_bot.fake_telegram import button, message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]
PLAYER_TG, OTHER_TG = 2001, 2002


@pytest.fixture
def linked(db):
    player = PlayerFactory(uid="privuid", name="LuckyGoat88", wager_month=Decimal("100"))
    return UserFactory(username="lucky", email="lucky@example.com", email_verified=True, telegram_id=PLAYER_TG,
                       player=player, verification_status="verified")  # fmt: skip


def _markup(tg) -> list[dict]:
    params = [c.params for c in tg.calls if c.method == "sendMessage"][-1]
    markup = params["reply_markup"]
    rows = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
    return [b for row in rows for b in row]


def test_privacy_shows_and_sets_how_the_name_appears(tg, feed_updates, linked):
    feed_updates(message("/privacy", user_id=PLAYER_TG))
    assert "<b>LuckyGoat88</b>" in tg.last(PLAYER_TG)
    assert [b["callback_data"] for b in _markup(tg)] == [f"priv:{c}:{PLAYER_TG}" for c in ("full", "masked", "hidden")]
    feed_updates(message("/privacy masked", user_id=PLAYER_TG))
    assert "<b>Lu****88</b>" in tg.last(PLAYER_TG)
    assert Player.objects.get(uid="privuid").name_display == "masked"
    feed_updates(button(f"priv:hidden:{PLAYER_TG}", user_id=PLAYER_TG, message_id=41))
    assert Player.objects.get(uid="privuid").name_display == "hidden"
    edit = [c.params for c in tg.calls if c.method == "editMessageText"][-1]
    assert "<b>Anonymous</b>" in edit["text"]
    entry = AuditEntry.objects.filter(action="privacy.name_display").latest("pk")
    assert (entry.source, entry.after) == (AuditEntry.Source.BOT, {"name_display": "hidden"})


def test_privacy_refuses_bad_input_other_people_groups_and_unlinked_accounts(tg, feed_updates, linked):
    feed_updates(message("/privacy loud", user_id=PLAYER_TG))
    assert "Choose one of full, masked, hidden" in tg.last(PLAYER_TG)
    feed_updates(button(f"priv:hidden:{PLAYER_TG}", user_id=OTHER_TG, chat_id=-5000, message_id=9))
    answer = [c.params for c in tg.calls if c.method == "answerCallbackQuery"][-1]
    assert "belongs to whoever asked" in answer["text"]
    feed_updates(message("/privacy hidden", user_id=PLAYER_TG, chat_type="supergroup", chat_id=-5000))
    assert "private chat" in tg.last(-5000)
    feed_updates(message("/privacy hidden", user_id=OTHER_TG))
    assert "Link your site account first" in tg.last(OTHER_TG)
    UserFactory(telegram_id=OTHER_TG)  # linked to the site, but no Goated player yet
    feed_updates(message("/privacy", user_id=OTHER_TG))
    assert "/verify" in tg.last(OTHER_TG)
    feed_updates(message("/privacy hidden", user_id=OTHER_TG))
    assert "Link your Goated account first" in tg.last(OTHER_TG)
    assert Player.objects.get(uid="privuid").name_display == ""


def test_break_sends_a_one_time_link_and_the_site_confirms_it_with_the_password(tg, feed_updates, linked, password):
    feed_updates(message("/break", user_id=PLAYER_TG))
    text = tg.last(PLAYER_TG)
    assert "never send your password here" in text
    [link_button] = _markup(tg)
    path = re.search(r"/accounts/break/[^/]+/$", link_button["url"]).group(0)
    client = Client()  # the link works without a session: the password is the proof
    page = client.get(path)
    assert page.status_code == 200
    assert "lucky" in page.content.decode()
    wrong = client.post(path, {"period": "7d", "password": "not it"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()
    linked.refresh_from_db()
    assert linked.self_excluded_until is None
    done = client.post(path, {"period": "7d", "password": password})
    assert done.status_code == 302
    linked.refresh_from_db()
    assert linked.self_excluded_until > timezone.now() + timedelta(days=6)
    assert AuditEntry.objects.filter(action="self_exclusion.start", target_id=str(linked.pk)).count() == 1
    again = client.post(path, {"period": "permanent", "password": password})  # once only
    assert again.status_code == 400
    assert "not valid any more" in again.content.decode()
    assert linked.self_exclusions.count() == 1
    forged = client.get(path[:-3] + "xx/")
    assert forged.status_code == 400


def test_break_in_a_group_or_without_a_linked_account_gives_no_link(tg, feed_updates, linked):
    feed_updates(message("/break", user_id=PLAYER_TG, chat_type="supergroup", chat_id=-5001))
    assert "private chat" in tg.last(-5001)
    feed_updates(message("/break", user_id=OTHER_TG))
    assert "Link your site account first" in tg.last(OTHER_TG)
    assert not any("/accounts/break/" in json.dumps(c.params) for c in tg.calls)


def test_the_end_of_a_break_is_announced_once_on_every_channel(tg, smtp, linked, password):
    self_exclusion_start(linked, "1d", password=password, now=timezone.now() - timedelta(days=2))
    still_on = UserFactory(telegram_id=OTHER_TG, email_verified=True)
    self_exclusion_start(still_on, "30d", password=password)
    assert self_exclusion_end_announce_task.delay().get() == 1
    assert self_exclusion_end_announce() == 0  # the next tick: nothing again
    assert self_exclusion_end_announce_task.delay().get() == 0
    over = [t for t in tg.sent(PLAYER_TG) if "Your break is over" in t]
    assert len(over) == 1
    assert Notification.objects.filter(user=linked, title="Your break is over").count() == 1
    smtp.wait_for(1)
    assert [m["Subject"] for m in smtp.to("lucky@example.com")] == ["Your break is over"]
    assert tg.sent(OTHER_TG) == []  # a break still running is not over


def test_a_break_replaced_by_a_longer_one_is_announced_only_when_the_longer_one_ends(tg, linked, password):
    start = timezone.now() - timedelta(days=3)
    self_exclusion_start(linked, "1d", password=password, now=start)
    self_exclusion_start(linked, "7d", password=password, now=start + timedelta(hours=1))
    assert self_exclusion_end_announce() == 0
    assert self_exclusion_end_announce(now=timezone.now() + timedelta(days=5)) == 1
    assert self_exclusion_end_announce(now=timezone.now() + timedelta(days=6)) == 0
    assert len([t for t in tg.sent(PLAYER_TG) if "Your break is over" in t]) == 1
