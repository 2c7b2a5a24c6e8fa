"""Prize ROI per race and raffle against a fixture whose figures are worked out by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine

from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from growth.models import PlayerWagerSnapshot
from growth.roi import day_span, prize_roi, prize_roi_rows
from races.models import RaceResult, WagerRace
from tests.factories import PlayerFactory, WagerRaceFactory, staff_member

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
SINCE = datetime(2026, 3, 1, tzinfo=UTC)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def snap(player, day: str, all_time: str) -> None:
    PlayerWagerSnapshot.objects.create(player=player, day=date.fromisoformat(day), all_time=D(all_time))


@pytest.fixture
def events(db):
    """History from 1 March. A race 9-16 March (7 days; previous period 2-9 March) paid 60 + 40 = 100:
    P1 1000 (2 Mar) → 1200 (9 Mar) → 1700 (16 Mar): before 200, during 500;
    P2 0 (no snapshot by 2 Mar) → 100 (5 Mar, so 100 at 9 Mar) → 100 (16 Mar): before 100, during 0.
    Totals: during 500, before 300, lift 200 (66.67 %), 2.00 of wager per prize dollar: lifted.
    A raffle 10 Mar 12:00 - 12 Mar 12:00 (days 10-12, previous 7-9) paid 10, P1 in the draw (P3 is not):
    at 7 Mar 1000, at 10 Mar 1200, at 13 Mar 1200: before 200, during 0, lift -200, -20.00 per dollar: no lift."""
    snap(PlayerFactory(), "2026-03-01", "1")
    p1, p2, p3 = PlayerFactory(), PlayerFactory(), PlayerFactory()
    snap(p1, "2026-03-02", "1000")
    snap(p1, "2026-03-09", "1200")
    snap(p1, "2026-03-16", "1700")
    snap(p2, "2026-03-05", "100")
    snap(p3, "2026-03-11", "999999")
    race = WagerRaceFactory(title="Weekly", status=WagerRace.Status.COMPLETED, start_date=at("2026-03-09T00:00:00"),
                            end_date=at("2026-03-16T00:00:00"))  # fmt: skip
    RaceResult.objects.create(race=race, player=p1, rank=1, name="a", uid="a", wagered=D("500"), prize=D("60"))
    RaceResult.objects.create(race=race, player=p2, rank=2, name="b", uid="b", wagered=D("0"), prize=D("40"))
    raffle = Raffle.objects.create(title="Midweek", starts_at=at("2026-03-10T12:00:00"),
                                   ends_at=at("2026-03-12T12:00:00"), prize_pool=D("10"),
                                   status=Raffle.Status.DRAWN)  # fmt: skip
    RaffleEntry.objects.create(raffle=raffle, player=p1, baseline_all_time=0, measured=0, tickets=1, in_draw=True)
    RaffleEntry.objects.create(raffle=raffle, player=p3, baseline_all_time=0, measured=0, tickets=0, in_draw=False)
    RaffleWinner.objects.create(raffle=raffle, position=1, player=p1, uid="a", name="a", tickets=1, prize=D("10"))
    return race, raffle


def test_prize_roi_by_hand(events):
    race, raffle = events
    found = {(e.kind, e.id): e for e in prize_roi(SINCE, NOW)}
    r = found[("race", race.pk)]
    assert (r.starts, r.ends, r.participants, r.prize_cost) == (date(2026, 3, 9), date(2026, 3, 16), 2, D("100"))
    assert (r.during, r.before, r.lift) == (D("500"), D("300"), D("200"))
    assert round(r.lift_share, 4) == D("0.6667")
    assert r.lift_per_prize == D("2")
    assert r.verdict == "lifted wagering"
    f = found[("raffle", raffle.pk)]
    assert (f.starts, f.ends, f.participants, f.prize_cost) == (date(2026, 3, 10), date(2026, 3, 13), 1, D("10"))
    assert (f.during, f.before, f.lift, f.lift_per_prize) == (D("0"), D("200"), D("-200"), D("-20"))
    assert f.verdict == "no lift"


def test_prize_roi_csv_rows(events):
    race, raffle = events
    rows = prize_roi_rows(SINCE, NOW)  # newest end first: the race (16 Mar), then the raffle (13 Mar)
    assert rows[2] == ("raffle", raffle.pk, "Midweek", "2026-03-10", "2026-03-12", 1, D("10.00"), D("0.00"),
                       D("200.00"), D("-200.00"), D("-1.0000"), D("-20.00"), "no lift")  # fmt: skip
    assert rows[1] == ("race", race.pk, "Weekly", "2026-03-09", "2026-03-15", 2, D("100.00"), D("500.00"),
                       D("300.00"), D("200.00"), D("0.6667"), D("2.00"), "lifted wagering")  # fmt: skip


def test_without_history_back_to_the_previous_period_there_is_no_verdict(events):
    PlayerWagerSnapshot.objects.filter(day__lt=date(2026, 3, 5)).delete()  # history from 5 March now
    r = next(e for e in prize_roi(SINCE, NOW) if e.kind == "race")
    assert (r.during, r.before, r.lift, r.verdict) == (None, None, None, "not enough history")
    assert r.prize_cost == D("100")


def test_day_span_covers_whole_days():
    assert day_span(at("2026-03-09T00:00:00"), at("2026-03-16T00:00:00")) == (date(2026, 3, 9), date(2026, 3, 16))
    assert day_span(at("2026-03-09T00:00:00"), at("2026-03-15T23:59:59")) == (date(2026, 3, 9), date(2026, 3, 16))
    assert day_span(at("2026-03-09T10:00:00"), at("2026-03-09T11:00:00")) == (date(2026, 3, 9), date(2026, 3, 10))


def test_prize_roi_queries_are_bounded(events, django_assert_max_num_queries):
    for i in range(12):  # more races than shown: at most MAX_EVENTS of each kind are measured
        WagerRaceFactory(status=WagerRace.Status.COMPLETED, start_date=at("2026-03-02T00:00:00"),
                         end_date=at(f"2026-03-{3 + i:02d}T00:00:00"))  # fmt: skip
    with django_assert_max_num_queries(5 + 2 * 10):
        assert len(prize_roi(SINCE, NOW)) == 10 + 1


@time_machine.travel(NOW, tick=False)
def test_the_prize_roi_csv_endpoint(events, client):
    client.force_login(staff_member("Operators"))
    answer = client.get("/admin/analytics/prize-roi.csv?days=30")
    assert answer.status_code == 200
    assert answer.content.decode().splitlines()[0].startswith("kind,id,title,first_day")
    assert ",lifted wagering" in answer.content.decode()
