"""Announcements in the community channel (TELEGRAM_ANNOUNCE_CHAT_ID): a race went live, a new leader, results;
each once, however often the services run."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from races.services.lifecycle import race_finalize, race_start, race_tick
from tests.factories import WagerRaceFactory
from tests.races.test_race_engine import DEC_1, NOV_1, apply_sync

pytestmark = pytest.mark.django_db(transaction=True)
CHANNEL = -1001234567890


def test_a_race_is_announced_live_each_new_leader_once_and_its_results(tg, settings):
    settings.TELEGRAM_ANNOUNCE_CHAT_ID = str(CHANNEL)
    race = WagerRaceFactory(title="November <Monthly>", start_date=NOV_1, end_date=DEC_1,
                            prize_pool=Decimal("500"), prize_distribution={"1": 60, "2": 40})  # fmt: skip
    assert race_start(race.pk, now=NOV_1)
    assert race_start(race.pk, now=NOV_1) is False
    apply_sync(datetime(2026, 11, 10, tzinfo=UTC), {"a": ("500", "0", "500"), "b": ("300", "0", "300")})
    apply_sync(datetime(2026, 11, 11, tzinfo=UTC), {"a": ("600", "0", "600"), "b": ("400", "0", "400")})
    apply_sync(datetime(2026, 11, 12, tzinfo=UTC), {"a": ("600", "0", "600"), "b": ("900", "0", "900")})
    apply_sync(datetime(2026, 11, 13, tzinfo=UTC), {"a": ("1000", "0", "1000"), "b": ("900", "0", "900")})
    apply_sync(datetime(2026, 11, 14, tzinfo=UTC), {"a": ("1000", "0", "1000"), "b": ("1100", "0", "1100")})
    apply_sync(datetime(2026, 11, 15, tzinfo=UTC), {"a": ("1200", "0", "1200"), "b": ("1100", "0", "1100")})
    race_tick(now=datetime(2026, 12, 1, 0, 1, tzinfo=UTC))
    assert race_finalize(race.pk, force=True) is None  # already final: nothing more is said

    posts = tg.sent(CHANNEL)
    assert posts[0].startswith("🏁 November &lt;Monthly&gt; is live: $500.00 in prizes.")
    assert f"/races/{race.pk}/" in posts[0]
    # The first standings of a race name no "new" leader; after that each player taking the lead is news once
    # per race (a tug of war at the top does not flood the channel).
    assert posts[1:] == [
        "🥇 Nb now leads November &lt;Monthly&gt;.",
        "🥇 Na now leads November &lt;Monthly&gt;.",
        "🏆 November &lt;Monthly&gt; is over. 1. Na $300.00; 2. Nb $200.00",
    ]
    assert tg.sent() == posts  # nobody else was messaged


def test_without_an_announcement_channel_nothing_is_posted(tg, settings):
    settings.TELEGRAM_ANNOUNCE_CHAT_ID = ""
    race = WagerRaceFactory(start_date=NOV_1, end_date=DEC_1)
    race_start(race.pk, now=NOV_1)
    apply_sync(datetime(2026, 11, 10, tzinfo=UTC), {"a": ("500", "0", "500")})
    assert tg.sent() == []


def test_lead_changes_minutes_apart_are_posted_at_most_once_a_quarter_hour_in_the_community_group(tg, settings):
    settings.TELEGRAM_ANNOUNCE_CHAT_ID = ""
    settings.TELEGRAM_COMMUNITY_CHAT_ID = CHANNEL  # announcements fall back to the community group
    race = WagerRaceFactory(title="Sprint", start_date=NOV_1, end_date=DEC_1)
    race_start(race.pk, now=NOV_1)

    def at(minute: int, **wagers: str) -> None:
        apply_sync(datetime(2026, 11, 10, 12, minute, tzinfo=UTC), {u: (w, "0", w) for u, w in wagers.items()})

    at(0, a="500", b="300", c="100")  # first standings: no "new" leader
    at(5, a="500", b="600", c="100")  # b takes the lead: posted
    at(10, a="700", b="600", c="100")  # a, five minutes later: too soon, skipped
    at(40, a="700", b="600", c="900")  # c, half an hour on: posted
    leads = [post for post in tg.sent(CHANNEL) if "now leads" in post]
    assert leads == ["🥇 Nb now leads Sprint.", "🥇 Nc now leads Sprint."]
