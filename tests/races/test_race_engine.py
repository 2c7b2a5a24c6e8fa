"""Race engine: standings from syncs, lifecycle, exactly-once finalization, prizes, archive, recurrence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from core.errors import Conflict
from notifications.models import Notification
from races.models import HistoricalRace, Player, RaceMeasure, RaceProgressSample, RaceResult, WagerRace
from races.prizes import prize_table
from races.services.lifecycle import race_cancel, race_finalize, race_start, race_tick
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
TEN_RANKS_100 = {"1": 40, "2": 20, "3": 12, "4": 8, "5": 6, "6": 5, "7": 3, "8": 2.5, "9": 2, "10": 1.5}


def apply_sync(as_of: datetime, rows: dict[str, tuple[str, str, str]]) -> list[int]:
    """What a successful sync does to races: new counters (month, week, all-time) committed, then the race hook."""
    for uid, (month, week, all_time) in rows.items():
        Player.objects.update_or_create(
            uid=uid,
            defaults={
                "name": f"N{uid}",
                "wager_month": Decimal(month),
                "wager_week": Decimal(week),
                "wager_all_time": Decimal(all_time),
                "last_seen": as_of,
            },
            create_defaults={"name": f"N{uid}", "wager_month": Decimal(month), "wager_week": Decimal(week),
                             "wager_all_time": Decimal(all_time), "first_seen": as_of, "last_seen": as_of},
        )  # fmt: skip
    return races_refresh_after_sync(as_of).races


def monthly_race(**kwargs) -> WagerRace:
    defaults = {
        "title": "November 2026 Monthly Race",
        "start_date": NOV_1,
        "end_date": DEC_1,
        "prize_pool": Decimal("500.00"),
        "prize_distribution": TEN_RANKS_100,
    }
    race = WagerRaceFactory(**{**defaults, **kwargs})
    race_start(race.pk, now=race.start_date)
    race.refresh_from_db()
    return race


def standings(race: WagerRace) -> list[tuple[int, str, Decimal]]:
    return list(
        race.participants.filter(rank__isnull=False).order_by("rank").values_list("rank", "player__uid", "wagered")
    )


@pytest.mark.django_db
def test_a_calendar_month_race_counts_the_monthly_counter():
    assert monthly_race().measure == RaceMeasure.MONTH
    week = WagerRaceFactory(start_date=datetime(2026, 11, 16, tzinfo=UTC), end_date=datetime(2026, 11, 23, tzinfo=UTC))
    assert week.measure == RaceMeasure.WEEK
    custom = WagerRaceFactory(start_date=NOV_1, end_date=NOV_1 + timedelta(days=3))
    assert custom.measure == RaceMeasure.GROWTH


@pytest.mark.django_db
def test_final_standings_are_those_of_the_last_sync_before_the_end_even_after_counters_reset():
    race = monthly_race()
    apply_sync(datetime(2026, 11, 30, 12, tzinfo=UTC), {"a": ("900", "90", "9000"), "b": ("800", "80", "8000")})
    last_before_end = datetime(2026, 11, 30, 23, 59, 50, tzinfo=UTC)
    assert apply_sync(last_before_end, {"a": ("1000", "100", "9100"), "b": ("1500", "150", "8700")}) == [race.pk]
    expected = [(1, "b", Decimal("1500")), (2, "a", Decimal("1000"))]
    assert standings(race) == expected

    # Upstream's monthly counters reset at midnight; the first sync after it must not touch the race.
    first_after_midnight = datetime(2026, 12, 1, 0, 0, 20, tzinfo=UTC)
    assert apply_sync(first_after_midnight, {"a": ("5", "5", "9105"), "b": ("0", "0", "8700")}) == []
    assert standings(race) == expected

    report = race_tick(now=datetime(2026, 12, 1, 0, 0, 30, tzinfo=UTC))
    assert report.finalized == [race.pk]
    results = list(RaceResult.objects.filter(race=race).values_list("rank", "uid", "wagered", "prize"))
    assert results == [(1, "b", Decimal("1500"), Decimal("200.00")), (2, "a", Decimal("1000"), Decimal("100.00"))]
    archive = HistoricalRace.objects.get(race=race)
    assert (archive.month, archive.year, archive.participant_count) == (11, 2026, 2)
    assert archive.total_wagered == Decimal("2500")
    assert archive.participants[0] == {
        "rank": 1,
        "uid": "b",
        "name": "Nb",
        "wagered": "1500.00000000",
        "prize": "200.00",
    }


@pytest.mark.django_db
def test_a_race_is_not_finalized_before_its_end():
    race = monthly_race()
    assert race_tick(now=DEC_1 - timedelta(seconds=1)).finalized == []
    assert race_finalize(race.pk, now=DEC_1 - timedelta(seconds=1)) is None
    race.refresh_from_db()
    assert race.status == WagerRace.Status.LIVE


@pytest.mark.django_db
def test_a_100_percent_table_on_a_500_pool_pays_exactly_500():
    table = prize_table(Decimal("500.00"), TEN_RANKS_100)
    assert sum(table.values()) == Decimal("500.00")
    assert table[1] == Decimal("200.00")
    assert table[8] == Decimal("12.50")


def test_odd_cents_are_rounded_down_and_never_exceed_the_pool():
    table = prize_table(Decimal("100.00"), {"1": "33.333", "2": "33.333", "3": "33.334"})
    assert table == {1: Decimal("33.33"), 2: Decimal("33.33"), 3: Decimal("33.33")}
    assert sum(table.values()) <= Decimal("100.00")
    assert prize_table(Decimal("0.05"), {"1": 50, "2": 50}) == {1: Decimal("0.02"), 2: Decimal("0.02")}


def test_the_original_103_5_percent_table_is_refused_by_the_prize_service():
    bad = {"1": 42.5, "2": 20, "3": 15, "4": 7.5, "5": 5, "6": 4, "7": 3, "8": 2.5, "9": 2, "10": 2}
    with pytest.raises(ValidationError, match=r"103\.5 %"):
        prize_table(Decimal("500"), bad)


@pytest.mark.django_db
def test_players_below_min_wager_are_listed_but_win_nothing():
    race = monthly_race(min_wager=Decimal("1000"), prize_distribution={"1": 50, "2": 30, "3": 20})
    apply_sync(
        NOV_1 + timedelta(days=2), {"x": ("5000", "0", "5000"), "y": ("999.99", "0", "999.99"), "z": ("1", "0", "1")}
    )
    race_tick(now=DEC_1)
    rows = list(RaceResult.objects.filter(race=race).values_list("uid", "rank", "prize", "prize_eligible"))
    assert rows == [("x", 1, Decimal("250.00"), True), ("y", 2, Decimal("0"), False), ("z", 3, Decimal("0"), False)]


@pytest.mark.django_db
def test_ranks_without_a_percentage_get_nothing():
    race = monthly_race(prize_distribution={"1": 100})
    apply_sync(NOV_1 + timedelta(days=1), {"a": ("10", "0", "10"), "b": ("5", "0", "5")})
    race_tick(now=DEC_1)
    assert list(RaceResult.objects.filter(race=race).values_list("prize", flat=True)) == [
        Decimal("500.00"),
        Decimal("0"),
    ]


@pytest.mark.django_db
def test_ties_rank_the_earlier_seen_player_first_then_uid():
    race = monthly_race()
    PlayerFactory(uid="late", first_seen=NOV_1 + timedelta(days=5), wager_month=Decimal("50"))
    PlayerFactory(uid="early", first_seen=NOV_1, wager_month=Decimal("50"))
    PlayerFactory(uid="b-same", first_seen=NOV_1 + timedelta(days=9), wager_month=Decimal("50"))
    PlayerFactory(uid="a-same", first_seen=NOV_1 + timedelta(days=9), wager_month=Decimal("50"))
    races_refresh_after_sync(NOV_1 + timedelta(days=10))
    assert [uid for _, uid, _ in standings(race)] == ["early", "late", "a-same", "b-same"]


@pytest.mark.django_db
def test_a_custom_three_day_race_measures_growth_since_it_went_live():
    PlayerFactory(uid="whale", wager_month=Decimal("90000"), wager_all_time=Decimal("1000000"))
    PlayerFactory(uid="grinder", wager_month=Decimal("100"), wager_all_time=Decimal("100"))
    start = datetime(2026, 11, 10, 18, tzinfo=UTC)
    race = WagerRaceFactory(type=WagerRace.Type.CUSTOM, start_date=start, end_date=start + timedelta(days=3))
    assert race_start(race.pk, now=start)
    apply_sync(
        start + timedelta(days=1),
        {"whale": ("90300", "300", "1000300"), "grinder": ("2100", "2000", "2100"), "newbie": ("700", "700", "700")},
    )
    assert standings(race) == [
        (1, "grinder", Decimal("2000")),
        (2, "newbie", Decimal("700")),
        (3, "whale", Decimal("300")),
    ]


@pytest.mark.django_db
def test_finalizing_twice_changes_nothing_the_second_time():
    race = monthly_race(recurrence=WagerRace.Recurrence.MONTHLY)
    apply_sync(NOV_1 + timedelta(days=3), {"a": ("10", "0", "10")})
    assert race_finalize(race.pk, now=DEC_1) is not None
    assert race_finalize(race.pk, now=DEC_1 + timedelta(hours=1)) is None
    assert race_tick(now=DEC_1 + timedelta(days=1)).finalized == []
    assert HistoricalRace.objects.filter(race=race).count() == 1
    assert RaceResult.objects.filter(race=race).count() == 1


@pytest.mark.django_db
def test_recurrence_creates_exactly_one_next_race_with_the_same_settings():
    race = monthly_race(recurrence=WagerRace.Recurrence.MONTHLY, min_wager=Decimal("250"))
    report = race_finalize(race.pk, now=DEC_1)
    race_finalize(race.pk, now=DEC_1)
    nxt = WagerRace.objects.get(recurs_from=race)
    assert report.next_race_id == nxt.pk
    assert WagerRace.objects.filter(recurs_from=race).count() == 1
    assert (nxt.title, nxt.status, nxt.start_date, nxt.end_date) == (
        "December 2026 Monthly Race",
        WagerRace.Status.UPCOMING,
        DEC_1,
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert (nxt.prize_pool, nxt.min_wager, nxt.prize_distribution) == (race.prize_pool, Decimal("250"), TEN_RANKS_100)
    assert nxt.measure == RaceMeasure.MONTH
    # The next race starts on its own when its time comes.
    assert race_tick(now=DEC_1 + timedelta(seconds=5)).started == [nxt.pk]


@pytest.mark.django_db
def test_weekly_recurrence_moves_one_week():
    start = datetime(2026, 11, 16, tzinfo=UTC)
    race = WagerRaceFactory(
        start_date=start, end_date=start + timedelta(days=7), recurrence=WagerRace.Recurrence.WEEKLY
    )
    race_start(race.pk, now=start)
    race_finalize(race.pk, now=start + timedelta(days=7))
    nxt = WagerRace.objects.get(recurs_from=race)
    assert (nxt.start_date, nxt.end_date) == (start + timedelta(days=7), start + timedelta(days=14))


@pytest.mark.django_db
def test_winners_with_a_linked_account_get_one_in_site_notification(django_capture_on_commit_callbacks):
    race = monthly_race(prize_distribution={"1": 60, "2": 40})
    apply_sync(NOV_1 + timedelta(days=1), {"w1": ("30", "0", "30"), "w2": ("20", "0", "20"), "lost": ("1", "0", "1")})
    winner = UserFactory(player=Player.objects.get(uid="w1"))
    UserFactory(player=Player.objects.get(uid="lost"))
    with django_capture_on_commit_callbacks(execute=True):
        race_finalize(race.pk, now=DEC_1)
    race_finalize(race.pk, now=DEC_1)
    notes = list(Notification.objects.values_list("user_id", "title"))
    assert notes == [(winner.pk, "You finished #1 in November 2026 Monthly Race")]
    assert RaceResult.objects.filter(race=race, prize__gt=0, notified_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_finalizers_produce_one_archive_one_result_set_one_notification_each():
    race = monthly_race(prize_distribution={"1": 50, "2": 30, "3": 20})
    apply_sync(NOV_1 + timedelta(days=1), {f"p{i}": (str(100 - i), "0", str(100 - i)) for i in range(5)})
    for uid in ("p0", "p1", "p2"):
        UserFactory(player=Player.objects.get(uid=uid))
    barrier = threading.Barrier(8)
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            outcomes.append(race_finalize(race.pk, now=DEC_1))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(1 for o in outcomes if o is not None) == 1
    assert HistoricalRace.objects.filter(race=race).count() == 1
    assert RaceResult.objects.filter(race=race).count() == 5
    assert Notification.objects.count() == 3
    assert WagerRace.objects.filter(recurs_from=race).count() == 0
    before = list(RaceResult.objects.order_by("pk").values())
    call_command("race_tick")
    assert list(RaceResult.objects.order_by("pk").values()) == before


@pytest.mark.django_db
def test_upcoming_races_go_live_at_their_start_and_not_before():
    race = WagerRaceFactory(start_date=NOV_1, end_date=DEC_1)
    assert race_tick(now=NOV_1 - timedelta(seconds=1)).started == []
    assert race_tick(now=NOV_1).started == [race.pk]
    race.refresh_from_db()
    assert (race.status, race.went_live_at) == (WagerRace.Status.LIVE, NOV_1)
    assert race_tick(now=NOV_1 + timedelta(seconds=30)).started == []


@pytest.mark.django_db
def test_a_race_whose_whole_window_was_missed_is_started_and_finalized_in_one_tick():
    race = WagerRaceFactory(start_date=NOV_1, end_date=NOV_1 + timedelta(days=1))
    report = race_tick(now=NOV_1 + timedelta(days=2))
    assert (report.started, report.finalized) == ([race.pk], [race.pk])


@pytest.mark.django_db
def test_cancelled_races_are_never_started_or_finalized():
    race = WagerRaceFactory(start_date=NOV_1, end_date=DEC_1)
    race_cancel(race.pk)
    assert race_tick(now=DEC_1 + timedelta(days=1)).started == []
    with pytest.raises(Conflict, match="can no longer be cancelled"):
        race_cancel(race.pk)


@pytest.mark.django_db
def test_a_sync_before_a_race_starts_does_not_count_for_it():
    race = WagerRaceFactory(start_date=DEC_1, end_date=datetime(2027, 1, 1, tzinfo=UTC))
    race_start(race.pk, now=DEC_1)
    # Last month's counters, fetched before the start, must not seed the new race.
    assert apply_sync(DEC_1 - timedelta(seconds=10), {"a": ("5000", "0", "5000")}) == []
    assert standings(race) == []


@pytest.mark.django_db
def test_progress_samples_are_bounded_by_the_race_duration(settings):
    settings.RACE_PROGRESS_MAX_SAMPLES = 10  # one sample per 3 days for a 30-day race
    race = monthly_race()
    for hour in range(0, 30 * 24, 6):
        apply_sync(NOV_1 + timedelta(hours=hour, minutes=1), {"a": (str(hour + 1), "0", str(hour + 1))})
    samples = RaceProgressSample.objects.filter(race=race)
    assert samples.count() == 10
    first = samples.first()
    assert first.standings == [["a", "Na", "1.00", 1]]


@pytest.mark.django_db
def test_race_tick_command_reports_what_it_did(capsys):
    WagerRaceFactory(start_date=NOV_1, end_date=datetime(2030, 1, 1, tzinfo=UTC))
    call_command("race_tick")
    assert capsys.readouterr().out.startswith("Started 1 race(s) (")
