"""Money and time at the race boundary, against a real local feed server (docs/races.md, "Time").

- Data counts for a race only if it *arrived* at or before the race's end (upstream answers in seconds).
- A period counter that goes down inside a monthly/weekly race is an upstream reset: the standing is kept.
- A sync whose period total collapses is refused for races (players still update); the log says why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from races.models import Player, RaceParticipant, RaceResult, TransformationLog, WagerRace
from races.services.lifecycle import race_start, race_tick
from races.services.sync import sync_wagers
from tests.factories import WagerRaceFactory
from tests.races.conftest import feed_rows


def standings(race: WagerRace) -> list[tuple[str, Decimal]]:
    rows = RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player").order_by("rank")
    return [(p.player.uid, p.wagered) for p in rows]


@pytest.mark.django_db(transaction=True)
def test_a_sync_that_started_before_the_end_but_arrived_after_it_does_not_change_the_race(upstream):
    """Upstream is slow: the sync asks before the end and the answer (counters already reset) comes after it."""
    upstream(feed_rows(alice=("0", "0", "1000"), bob=("0", "0", "500")))
    assert sync_wagers().ok  # the players exist before the race starts: their all-time wagers are the baselines
    now = timezone.now()
    race = WagerRaceFactory(
        type="custom", start_date=now - timedelta(hours=1), end_date=now + timedelta(seconds=2),
        prize_pool=Decimal("100"), prize_distribution={"1": 70, "2": 30},
    )  # fmt: skip
    race_start(race.pk, now=race.start_date)
    upstream(feed_rows(alice=("0", "0", "1300"), bob=("0", "0", "900")))
    assert sync_wagers().ok  # arrives before the end
    before_end = standings(race)
    assert before_end == [("bob", Decimal("400")), ("alice", Decimal("300"))]

    upstream(feed_rows(alice=("0", "0", "1302"), bob=("0", "0", "0")), delay=3)  # bob's counter reset upstream
    asked_at = timezone.now()
    late = sync_wagers()
    assert late.ok
    assert asked_at < race.end_date < TransformationLog.objects.get(pk=late.log_id).created_at
    assert race.pk not in late.races
    assert standings(race) == before_end
    log = TransformationLog.objects.get(pk=late.log_id)
    assert f"race #{race.pk} ended before this data arrived" in log.message
    assert datetime.fromisoformat(log.payload["as_of"]) > race.end_date  # the arrival, not the request

    assert race_tick().finalized == [race.pk]
    final = list(RaceResult.objects.filter(race=race).order_by("rank").values_list("uid", "wagered", "prize"))
    assert final == [("bob", Decimal("400"), Decimal("70.00")), ("alice", Decimal("300"), Decimal("30.00"))]


def _this_month_race() -> WagerRace:
    start = timezone.now().astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    race = WagerRaceFactory(title="This month", type="monthly", start_date=start, end_date=end,
                            prize_distribution={"1": 50, "2": 30, "3": 20})  # fmt: skip
    race_start(race.pk, now=start)
    return race


@pytest.mark.django_db(transaction=True)
def test_a_counter_reset_inside_a_monthly_race_never_lowers_a_standing(upstream):
    race = _this_month_race()
    upstream(feed_rows(alice=("0", "1000", "5000"), bob=("0", "800", "4000"), carol=("0", "600", "3000")))
    assert sync_wagers().ok
    upstream(feed_rows(alice=("0", "5", "5005"), bob=("0", "850", "4050"), carol=("0", "600", "3000")))
    reset = sync_wagers()
    assert reset.ok
    assert reset.races == [race.pk]
    assert standings(race) == [("alice", Decimal("1000")), ("bob", Decimal("850")), ("carol", Decimal("600"))]
    assert Player.objects.get(uid="alice").wager_month == Decimal("5")  # the player row takes upstream's figure
    assert reset.counter_resets == {race.pk: 1}
    log = TransformationLog.objects.get(pk=reset.log_id)
    assert log.type == TransformationLog.Type.WARNING
    assert "1 player counter(s) went down inside a live race (upstream reset): standings kept" in log.message
    upstream(feed_rows(alice=("0", "1200", "5200"), bob=("0", "850", "4050"), carol=("0", "600", "3000")))
    assert sync_wagers().ok
    assert standings(race)[0] == ("alice", Decimal("1200"))  # real growth after the reset counts again


@pytest.mark.django_db(transaction=True)
def test_a_sync_whose_month_total_collapses_updates_players_but_not_races(upstream):
    race = _this_month_race()
    upstream(feed_rows(alice=("0", "1000", "5000"), bob=("0", "800", "4000"), carol=("0", "600", "3000")))
    assert sync_wagers().ok
    before = standings(race)
    upstream(feed_rows(alice=("0", "1", "5001"), bob=("0", "2", "4001"), carol=("0", "3", "3001")))
    collapsed = sync_wagers()
    assert collapsed.ok
    assert collapsed.races == []
    assert "the month total fell 99 % (from $2,400.00 to $6.00)" in collapsed.races_refused
    assert standings(race) == before
    assert Player.objects.get(uid="bob").wager_month == Decimal("2")
    log = TransformationLog.objects.get(pk=collapsed.log_id)
    assert log.type == TransformationLog.Type.WARNING
    assert "live races not updated: the month total fell 99 %" in log.message
    assert log.payload["races_refused"] == collapsed.races_refused
