"""Monthly cohorts and the daily wager snapshots, against a fixture whose figures are worked out by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
import time_machine

from growth.cohorts import cohort_rows, cohort_table, wager_snapshots_take
from growth.models import PlayerWagerSnapshot
from tests.factories import PlayerFactory, staff_member

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def snap(player, day: str, all_time: str) -> None:
    PlayerWagerSnapshot.objects.create(player=player, day=date.fromisoformat(day), all_time=D(all_time))


@pytest.fixture
def cohorts(db):
    """History from 1 Jan 2026 (an old player's snapshot). January: A (100 by 1 Feb, 150 by 1 Mar, 160 now) and
    B (40 by 1 Feb, nothing after); February: C (70 by 1 Mar, 90 now); March: D (5 now).
    January cohort: month 0 = 100 + 40 = 140 (2 active), month 1 = 50 (A), month 2 = 10 (A).
    February cohort: 70, then 20. March cohort: 5."""
    old = PlayerFactory(first_seen=at("2025-06-01T00:00:00"), wager_all_time=D("5000"))
    snap(old, "2026-01-01", "1000")
    a = PlayerFactory(first_seen=at("2026-01-10T09:00:00"), wager_all_time=D("160"))
    snap(a, "2026-02-01", "100")
    snap(a, "2026-03-01", "150")
    b = PlayerFactory(first_seen=at("2026-01-20T09:00:00"), wager_all_time=D("40"))
    snap(b, "2026-02-01", "40")
    c = PlayerFactory(first_seen=at("2026-02-05T09:00:00"), wager_all_time=D("90"))
    snap(c, "2026-03-01", "70")
    PlayerFactory(first_seen=at("2026-03-02T09:00:00"), wager_all_time=D("5"))


def cells(cohort):
    return [None if c is None else (c.wagered, c.active, round(c.share, 3)) for c in cohort.cells]


def test_cohort_table_by_hand(cohorts):
    jan, feb, mar = cohort_table(3, NOW)
    assert (jan.month, jan.players, feb.players, mar.players) == (date(2026, 1, 1), 2, 1, 1)
    assert cells(jan) == [(D("140"), 2, 1.0), (D("50"), 1, 0.5), (D("10"), 1, 0.5)]
    assert cells(feb) == [(D("70"), 1, 1.0), (D("20"), 1, 1.0)]
    assert cells(mar) == [(D("5"), 1, 1.0)]
    assert (jan.later, feb.later, mar.later) == (0, 1, 2)


def test_months_before_the_history_began_have_no_data(db):
    # History from 1 March only: January's months 0 and 1 end or start before it (None); its March is known
    # (150 → 160), and so is February's month 0 (from 0 to the figure of 1 March: an empty cohort here).
    a = PlayerFactory(first_seen=at("2026-01-10T09:00:00"), wager_all_time=D("160"))
    snap(a, "2026-03-01", "150")
    jan, feb, mar = cohort_table(3, NOW)
    assert cells(jan) == [None, None, (D("10"), 1, 1.0)]
    assert cells(feb) == [(D("0"), 0, 0.0), (D("0"), 0, 0.0)]
    assert cells(mar) == [(D("0"), 0, 0.0)]


def test_cohort_table_costs_two_queries_whatever_the_players(cohorts, django_assert_num_queries):
    with django_assert_num_queries(2):
        cohort_table(3, NOW)
    PlayerFactory.create_batch(5, first_seen=at("2026-02-10T00:00:00"))
    with django_assert_num_queries(2):
        cohort_table(3, NOW)


def test_cohort_csv_rows(cohorts):
    rows = cohort_rows(3, NOW)
    assert rows[0] == ("cohort", "players", "month", "months_after", "wagered", "active_players", "active_share")
    assert rows[1:] == [
        ("2026-01", 2, "2026-01", 0, D("140.00"), 2, "1.000"),
        ("2026-01", 2, "2026-02", 1, D("50.00"), 1, "0.500"),
        ("2026-01", 2, "2026-03", 2, D("10.00"), 1, "0.500"),
        ("2026-02", 1, "2026-02", 0, D("70.00"), 1, "1.000"),
        ("2026-02", 1, "2026-03", 1, D("20.00"), 1, "1.000"),
        ("2026-03", 1, "2026-03", 0, D("5.00"), 1, "1.000"),
    ]


def test_a_snapshot_is_written_only_for_changed_players_once_a_day(db):
    new = PlayerFactory(wager_all_time=D("100"))
    PlayerFactory(wager_all_time=D("0"))
    same = PlayerFactory(wager_all_time=D("50"))
    snap(same, "2026-03-14", "50")
    grew = PlayerFactory(wager_all_time=D("80"))
    snap(grew, "2026-03-14", "60")
    assert wager_snapshots_take(NOW) == 2
    today = PlayerWagerSnapshot.objects.filter(day=date(2026, 3, 15))
    assert dict(today.values_list("player_id", "all_time")) == {new.pk: D("100"), grew.pk: D("80")}
    grew.wager_all_time = D("90")
    grew.save()
    assert wager_snapshots_take(NOW) == 0  # today's is taken: the day's figure stays the one at its start
    assert today.get(player=grew).all_time == D("80")


@time_machine.travel(NOW, tick=False)
def test_the_cohort_csv_endpoint(cohorts, client):
    client.force_login(staff_member("Operators"))
    answer = client.get("/admin/analytics/cohorts.csv?days=30")
    assert answer.status_code == 200
    assert "2026-01,2,2026-02,1,50.00,1,0.500" in answer.content.decode().splitlines()
    client.force_login(staff_member("Support"))
    assert client.get("/admin/analytics/cohorts.csv?days=30").status_code == 403
