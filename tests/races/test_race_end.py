"""A race ends at its end_date, not when the tick notices (WagerRace.has_ended): between the end and the tick that
finalizes it, nothing that happens or arrives counts — joins, adjustments, recomputes, data, chart samples.

Syncs go through a real local feed server; `sync_wagers(as_of=…)` is a sync whose answer arrived at that time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Conflict
from races.models import Player, RaceEntry, RaceResult, WagerRace
from races.services.adjustments import AdjustmentRefused, race_adjust
from races.services.entries import race_join
from races.services.lifecycle import race_recompute, race_start, race_tick
from races.services.standings import race_progress_sample
from races.services.sync import sync_wagers
from tests.factories import UserFactory, WagerRaceFactory, staff_member
from tests.races.conftest import feed_rows


def _all_time(**wagers: int) -> dict:
    return feed_rows(**{uid: ("0", "0", str(amount)) for uid, amount in wagers.items()})


def _results(race: WagerRace) -> list[tuple[str, Decimal]]:
    return [(r.uid, r.wagered) for r in RaceResult.objects.filter(race=race).order_by("rank")]


def _opt_in_race(start, end) -> WagerRace:
    race = WagerRaceFactory(type="custom", entry=WagerRace.Entry.OPT_IN, start_date=start, end_date=end,
                            prize_pool=Decimal("100"), prize_distribution={"1": 70, "2": 30})  # fmt: skip
    race_start(race.pk, now=start)
    race.refresh_from_db()
    return race


@pytest.mark.django_db(transaction=True)
def test_a_join_after_the_end_is_refused_and_cannot_pull_in_wagers_that_arrived_after_it(upstream, client):
    """The reproduction: standings a=500, b=400 at the end; a sync after the end raised b; c joins before the
    tick. Today's code let the join recompute from the live Player table (b=2000 took first)."""
    now = timezone.now()
    start, end = now - timedelta(hours=2), now - timedelta(minutes=5)
    upstream(_all_time(a=0, b=0, c=0))
    assert sync_wagers(as_of=start - timedelta(minutes=1)).ok
    race = _opt_in_race(start, end)
    for uid in ("a", "b"):
        race_join(race.pk, player=Player.objects.get(uid=uid), now=start + timedelta(minutes=1))
    upstream(_all_time(a=500, b=400, c=0))
    assert sync_wagers(as_of=end - timedelta(minutes=1)).ok
    upstream(_all_time(a=500, b=2000, c=50))
    assert sync_wagers(as_of=end + timedelta(minutes=1)).ok  # arrived after the end: the race keeps its standings

    client.force_login(UserFactory(player=Player.objects.get(uid="c")))
    response = client.post(f"/api/v1/races/{race.pk}/join/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "race_over"
    assert not RaceEntry.objects.filter(race=race, player__uid="c").exists()

    race_tick(now=timezone.now())
    assert _results(race) == [("a", Decimal("500")), ("b", Decimal("400"))]


@pytest.mark.django_db(transaction=True)
def test_an_adjustment_or_a_recompute_after_the_end_is_refused_and_changes_nothing(upstream):
    now = timezone.now()
    start, end = now - timedelta(hours=2), now - timedelta(minutes=5)
    upstream(_all_time(a=0, b=0))
    assert sync_wagers(as_of=start - timedelta(minutes=1)).ok
    race = WagerRaceFactory(type="custom", start_date=start, end_date=end, prize_pool=Decimal("100"),
                            prize_distribution={"1": 70, "2": 30})  # fmt: skip
    race_start(race.pk, now=start)
    upstream(_all_time(a=500, b=400))
    assert sync_wagers(as_of=end - timedelta(minutes=1)).ok
    upstream(_all_time(a=500, b=2000))
    assert sync_wagers(as_of=end + timedelta(minutes=1)).ok
    operator = staff_member("Operators")

    with pytest.raises(Conflict) as refused:
        race_adjust(race.pk, player_id=Player.objects.get(uid="b").pk, amount="1", reason="late", actor=operator)
    assert refused.value.code == "race_over"
    with pytest.raises(Conflict) as refused:
        race_recompute(race.pk, actor=operator)
    assert refused.value.code == "race_over"
    assert race_progress_sample(race, end + timedelta(minutes=1)) is None

    race_tick(now=timezone.now())
    assert _results(race) == [("a", Decimal("500")), ("b", Decimal("400"))]


# --- the rule under random interleavings ------------------------------------------------------------------------

UIDS = ("p1", "p2", "p3")


@dataclass
class Model:
    """What the results must be: growth measured by the last sync that arrived at or before the end, for the
    players who joined before the end, plus the adjustments made before the end."""

    opt_in: bool
    all_time: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UIDS, 0))
    at_end: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UIDS, 0))
    joined: set[str] = field(default_factory=set)
    adjusted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UIDS, 0))

    def counts(self, uid: str) -> bool:
        return not self.opt_in or uid in self.joined

    def results(self) -> list[tuple[str, Decimal]]:
        wagered = {uid: max(self.at_end[uid] + self.adjusted[uid], 0) for uid in UIDS if self.counts(uid)}
        # Equal wagers: earlier first seen, then uid; every player was first seen by the same first sync.
        ranked = sorted((uid for uid in wagered if wagered[uid] > 0), key=lambda uid: (-wagered[uid], uid))
        return [(uid, Decimal(wagered[uid])) for uid in ranked]


# Minutes from the race's end, never the end itself (the tick may finalize at that very instant).
MINUTE = st.integers(-50, 50).filter(bool)
EVENT = st.one_of(
    st.tuples(st.just("sync"), MINUTE, st.lists(st.integers(0, 300), min_size=3, max_size=3)),
    st.tuples(st.just("join"), MINUTE, st.sampled_from(UIDS)),
    st.tuples(st.just("adjust"), MINUTE, st.tuples(st.sampled_from(UIDS), st.integers(-200, 200))),
    st.tuples(st.just("tick"), MINUTE, st.none()),
)


def _play(race: WagerRace, model: Model, events, upstream, operator) -> None:
    """Run the events in time order (minutes from the race's end; a sync's minute is when its answer arrived)."""
    for kind, minute, data in sorted(events, key=lambda e: e[1]):
        at = race.end_date + timedelta(minutes=minute)
        before_end = minute < 0
        if kind == "sync":
            for uid, growth in zip(UIDS, data, strict=True):
                model.all_time[uid] += growth
            upstream(_all_time(**model.all_time))
            assert sync_wagers(as_of=at).ok
            if before_end:
                model.at_end = dict(model.all_time)
        elif kind == "join" and model.opt_in:
            already = data in model.joined  # joining twice answers with the first entry, at any time
            try:
                race_join(race.pk, player=Player.objects.get(uid=data), now=at)
            except Conflict:
                assert not before_end, "a join before the end was refused"
            else:
                assert before_end or already, "a join after the end was accepted"
                model.joined.add(data)
        elif kind == "adjust" and data[1] != 0:
            uid, amount = data
            try:
                race_adjust(race.pk, player_id=Player.objects.get(uid=uid).pk, amount=amount, reason="check",
                            actor=operator, now=at)  # fmt: skip
            except Conflict:
                assert not before_end, "an adjustment before the end was refused as over"
            except AdjustmentRefused:
                assert not model.counts(uid), "an adjustment of a counting player was refused"
            else:
                assert before_end, "an adjustment after the end was accepted"
                assert model.counts(uid)
                model.adjusted[uid] += amount
        elif kind == "tick":
            race_tick(now=at)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opt_in=st.booleans(), events=st.lists(EVENT, max_size=12))
def test_results_equal_the_last_sync_that_arrived_by_the_end_whatever_the_interleaving(upstream, opt_in, events):
    with transaction.atomic():
        operator = staff_member("Operators")
        now = timezone.now()
        start, end = now - timedelta(days=2), now - timedelta(days=1)
        upstream(_all_time(**dict.fromkeys(UIDS, 0)))
        assert sync_wagers(as_of=start - timedelta(hours=1)).ok
        race = WagerRaceFactory(type="custom", entry=WagerRace.Entry.OPT_IN if opt_in else WagerRace.Entry.OPEN,
                                start_date=start, end_date=end, prize_pool=Decimal("100"),
                                prize_distribution={"1": 50, "2": 30, "3": 20})  # fmt: skip
        race_start(race.pk, now=start)
        race.refresh_from_db()
        model = Model(opt_in=opt_in)
        _play(race, model, events, upstream, operator)
        race_tick(now=end + timedelta(hours=2))  # the tick that comes at last, however late
        assert _results(race) == model.results()
        transaction.set_rollback(True)  # the next example starts from an empty database


@pytest.mark.django_db
def test_the_race_page_after_the_end_offers_no_join_and_says_the_standings_are_being_made_final(client):
    now = timezone.now()
    race = _opt_in_race(now - timedelta(hours=2), now - timedelta(minutes=1))
    client.force_login(UserFactory(player=Player.objects.create(uid="late", name="Late")))
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert "these standings are being made final" in page
    assert 'id="join-race"' not in page
    assert "Ends in" not in page


@pytest.mark.django_db
def test_has_ended_and_its_filter_agree_at_the_boundary():
    now = timezone.now()
    race = WagerRaceFactory(start_date=now - timedelta(days=1), end_date=now)
    for at in (now - timedelta(microseconds=1), now, now + timedelta(microseconds=1)):
        assert WagerRace.objects.filter(WagerRace.not_ended_q(at), pk=race.pk).exists() is not race.has_ended(at)
