"""The bot shows public names only: a masked or hidden player's real name is in no answer, and /check_stats does
not find them by it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from races.feed.leaderboard import leaderboard_cache_refresh
from races.feed.ranks import player_ranks_recompute
from tests.factories import PlayerFactory, UserFactory
from tests.telegram_bot.fake_telegram import message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]
PLAYER_TG = 1001


def test_bot_answers_carry_public_names_only(tg, feed_updates):
    PlayerFactory(uid="maskeduid", name="SecretMaskedName", name_display="masked", wager_month=Decimal("5000"))
    PlayerFactory(uid="hiddenuid", name="SecretHiddenName", name_display="hidden", wager_month=Decimal("4000"))
    me = PlayerFactory(uid="meuid", name="PlainGoat", wager_month=Decimal("3000"))
    player_ranks_recompute()
    leaderboard_cache_refresh()
    UserFactory(telegram_id=PLAYER_TG, player=me, verification_status="verified")
    feed_updates(
        message("/leaderboard", user_id=PLAYER_TG), message("/stats", user_id=PLAYER_TG),
        message("/check_stats SecretMaskedName", user_id=PLAYER_TG),
        message("/check_stats SecretHiddenName", user_id=PLAYER_TG),
        message("/check_stats maskeduid", user_id=PLAYER_TG),
    )  # fmt: skip
    leaderboard, stats, by_masked, by_hidden, by_uid = tg.sent(PLAYER_TG)[-5:]
    for answer in (leaderboard, stats, by_uid):
        assert "SecretMaskedName" not in answer
        assert "SecretHiddenName" not in answer
    assert "Se****me" in leaderboard
    assert "Anonymous" in leaderboard
    # Not found by the real name (the answer only repeats what was asked).
    assert by_masked.startswith("I don't know a player called")
    assert by_hidden.startswith("I don't know a player called")
    assert "<b>Se****me</b>" in by_uid
