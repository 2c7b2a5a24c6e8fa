"""The bot acts as a Goated player only while the site would: a ban or an unlink ends /stats and /join at once
(the bot used to fall back to the approved request of the Telegram id)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.services import user_player_unlink, user_set_active, verification_approve, verification_request_create
from races.feed.ranks import player_ranks_recompute
from races.models import WagerRace
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory
from tests.telegram_bot.fake_telegram import message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]
PLAYER_TG, STAFF_TG = 1001, 2002


@pytest.fixture
def holder():
    """A site account linked to Telegram whose claim, sent with /verify, staff approved."""
    reviewer = UserFactory(username="reviewer", is_staff=True, telegram_id=STAFF_TG)
    reviewer.groups.add(Group.objects.get(name="Support"))
    PlayerFactory(name="LuckyGoat88")
    player_ranks_recompute()
    user = UserFactory(username="holder", telegram_id=PLAYER_TG)
    request = verification_request_create(goated_name="LuckyGoat88", telegram_id=PLAYER_TG)
    verification_approve(request.pk, actor=reviewer)
    user.refresh_from_db()
    now = timezone.now()
    WagerRaceFactory(status="live", entry=WagerRace.Entry.OPT_IN, start_date=now - timedelta(days=1),
                     end_date=now + timedelta(days=2))  # fmt: skip
    return user, reviewer


@pytest.mark.parametrize("ending", ["ban", "unlink"])
def test_a_ban_or_an_unlink_ends_stats_and_join_in_the_bot(tg, feed_updates, holder, ending):
    user, reviewer = holder
    feed_updates(message("/stats", user_id=PLAYER_TG))
    assert "LuckyGoat88" in tg.last(PLAYER_TG)
    if ending == "ban":
        user_set_active(user, active=False, actor=reviewer)
    else:
        user_player_unlink(user, actor=reviewer)
    feed_updates(message("/stats", user_id=PLAYER_TG))
    assert "LuckyGoat88" not in tg.last(PLAYER_TG)
    feed_updates(message("/join", user_id=PLAYER_TG))
    assert "You're in" not in tg.last(PLAYER_TG)
    assert "/verify" in tg.last(PLAYER_TG)
