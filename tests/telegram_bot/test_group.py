"""The bot in the community group: welcomes, moderation by the group's admins (their right asked of Telegram),
and the flood guard — each recorded in the audit log — against the fake Bot API server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core.models import AuditEntry
from races.feed.ranks import player_ranks_recompute
from tests.factories import PlayerFactory, UserFactory
from tests.telegram_bot.fake_telegram import message

pytestmark = [pytest.mark.django_db(transaction=True)]
GROUP, OTHER_GROUP = -100500, -100777
ADMIN, WEAK_ADMIN, MEMBER, SPAMMER = 11, 12, 13, 14


@pytest.fixture
def group(tg, settings):
    settings.TELEGRAM_COMMUNITY_CHAT_ID = GROUP
    settings.TELEGRAM_BOT_USERNAME = "GoatedVIPsBot"
    settings.TELEGRAM_FLOOD_MESSAGES, settings.TELEGRAM_FLOOD_SECONDS = 10, 5
    tg.admins[GROUP] = {ADMIN: True, WEAK_ADMIN: False}
    return tg


def said(tg, chat: int = GROUP) -> list[str]:
    return tg.sent(chat)


def restricts(tg) -> list[dict]:
    return [c.params for c in tg.calls if c.method in ("restrictChatMember", "banChatMember")]


def permissions(call: dict) -> dict:
    value = call["permissions"]
    return json.loads(value) if isinstance(value, str) else value


def in_group(text: str, user: int, **kw) -> dict:
    return message(text, user_id=user, chat_type="supergroup", chat_id=kw.pop("chat_id", GROUP), **kw)


def test_new_members_are_welcomed_with_the_verify_link(group, feed_updates):
    feed_updates(in_group("", MEMBER, new_members=[21, 22]))
    text = said(group)[-1]
    assert "Welcome, Newbie21, Newbie22!" in text
    assert "https://t.me/GoatedVIPsBot" in text
    assert "/verify" in text
    before = len(group.calls)
    feed_updates(in_group("", MEMBER, chat_id=OTHER_GROUP, new_members=[23]))  # not our group: silent
    assert len(group.calls) == before


def test_an_admin_mutes_unmutes_and_bans_by_reply_and_each_is_audited(group, feed_updates):
    staff = UserFactory(username="mod", telegram_id=ADMIN)
    feed_updates(in_group("/mute 30", ADMIN, reply_to_user=SPAMMER))
    mute = restricts(group)[-1]
    assert int(mute["user_id"]) == SPAMMER
    assert permissions(mute)["can_send_messages"] is False
    assert "muted for 30 minutes" in said(group)[-1]
    feed_updates(in_group("/unmute", ADMIN, reply_to_user=SPAMMER))
    assert permissions(restricts(group)[-1])["can_send_messages"] is True
    feed_updates(in_group("/ban", ADMIN, reply_to_user=SPAMMER))
    assert restricts(group)[-1]["user_id"] in (SPAMMER, str(SPAMMER))
    entries = list(AuditEntry.objects.filter(action__startswith="telegram.").order_by("pk"))
    assert [e.action for e in entries] == ["telegram.mute", "telegram.unmute", "telegram.ban"]
    assert all(e.actor == staff and e.target_id for e in entries)
    assert entries[0].after["minutes"] == 30


@pytest.mark.parametrize(
    ("text", "user", "kw", "answer"),
    [
        ("/mute", MEMBER, {"reply_to_user": SPAMMER}, "Only the group's admins who may restrict members"),
        ("/mute", WEAK_ADMIN, {"reply_to_user": SPAMMER}, "Only the group's admins who may restrict members"),
        ("/mute", ADMIN, {}, "Reply to the member's message"),
        ("/mute soon", ADMIN, {"reply_to_user": SPAMMER}, "Minutes must be a whole number"),
        ("/mute 99999", ADMIN, {"reply_to_user": SPAMMER}, "Minutes must be a whole number"),
        ("/ban", ADMIN, {"reply_to_user": WEAK_ADMIN}, "I don't restrict admins or bots."),
    ],
)
def test_moderation_refuses_clearly_and_restricts_nobody(group, feed_updates, text, user, kw, answer):
    feed_updates(in_group(text, user, **kw))
    assert answer in said(group)[-1]
    assert restricts(group) == []
    assert not AuditEntry.objects.filter(action__startswith="telegram.").exists()


def test_moderation_outside_the_community_group_says_where_it_works(group, feed_updates):
    feed_updates(in_group("/mute", ADMIN, chat_id=OTHER_GROUP, reply_to_user=SPAMMER), message("/ban", user_id=ADMIN))
    assert "only moderate the GoatedVIPs community group" in said(group, OTHER_GROUP)[-1]
    assert "Moderation works in the community group" in said(group, ADMIN)[-1]
    assert restricts(group) == []


def test_ten_messages_in_five_seconds_mute_once_and_an_admin_lifts_it(group, feed_updates):
    feed_updates(*[in_group(f"buy now {i}", SPAMMER) for i in range(14)])
    mutes = restricts(group)
    assert len(mutes) == 1  # the 10th message mutes; the 11th-14th do not mute again
    assert int(mutes[0]["user_id"]) == SPAMMER
    assert "too many messages at once" in said(group)[-1]
    feed_updates(*[in_group(f"hello {i}", MEMBER) for i in range(5)])  # a calm member: untouched
    assert len(restricts(group)) == 1
    feed_updates(in_group("/unmute", ADMIN, reply_to_user=SPAMMER))
    assert permissions(restricts(group)[-1])["can_send_messages"] is True
    actions = list(
        AuditEntry.objects.filter(action__startswith="telegram.").order_by("pk").values_list("action", "actor")
    )
    assert actions == [("telegram.flood_mute", None), ("telegram.unmute", None)]
    feed_updates(*[in_group(f"again {i}", SPAMMER) for i in range(10)])  # flooding again after the unmute
    assert len([c for c in restricts(group) if not permissions(c)["can_send_messages"]]) == 2


def test_messages_spread_over_two_flood_windows_do_not_mute(group, feed_updates, ratelimit_clock):
    feed_updates(*[in_group(f"chat {i}", MEMBER) for i in range(9)])
    ratelimit_clock.advance(5)
    feed_updates(*[in_group(f"more {i}", MEMBER) for i in range(9)])
    assert restricts(group) == []


def test_admins_are_never_muted_by_the_flood_guard(group, feed_updates):
    feed_updates(*[in_group(f"announcement {i}", ADMIN) for i in range(12)])
    assert restricts(group) == []


def test_player_commands_answer_in_the_group_and_private_ones_say_where_to_go(group, feed_updates):
    PlayerFactory(name="GroupGoat", wager_month=Decimal("700"))
    player_ranks_recompute()
    commands = ["/leaderboard", "/check_stats GroupGoat", "/verify GroupGoat", "/website"]
    feed_updates(*[in_group(text, MEMBER) for text in commands])
    board, stats, verify, website = said(group)[-4:]
    assert "1. GroupGoat – $700.00" in board
    assert "<b>GroupGoat</b>" in stats
    assert "private chat" in verify
    assert "Races, leaderboards" in website
    buttons = [c.params for c in group.calls if c.method == "sendMessage" and "reply_markup" in c.params]
    assert f"lb:today:{MEMBER}" in str(buttons[0]["reply_markup"])  # the board's buttons answer only MEMBER
