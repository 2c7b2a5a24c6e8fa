"""Reads for the race API and pages: lists, the current race, standings with prizes, results, progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone

from goatedvips.errors import NotFound
from races.lifecycle import prize_table
from races.models import RaceParticipant, RaceProgressSample, RaceResult, WagerRace
from races.validators import parse_prize_distribution


@dataclass
class StandingRow:
    rank: int
    uid: str
    name: str
    wagered: Decimal
    prize: Decimal
    prize_eligible: bool


def race_list(*, status: str | None = None, race_type: str | None = None) -> QuerySet[WagerRace]:
    races = WagerRace.objects.all()
    if status:
        races = races.filter(status=status)
    if race_type:
        races = races.filter(type=race_type)
    return races.order_by("-start_date", "-pk")


def race_get(race_id: int) -> WagerRace:
    race = WagerRace.objects.annotate(_participants=Count("participants")).filter(pk=race_id).first()
    if race is None:
        raise NotFound(f"Race {race_id} does not exist.")
    return race


def race_current(race_type: str = WagerRace.Type.MONTHLY) -> WagerRace:
    race = WagerRace.objects.filter(type=race_type, status=WagerRace.Status.LIVE).order_by("-start_date").first()
    if race is None:
        raise NotFound(f"No {race_type} race is live right now.")
    return race


def race_time_left(race: WagerRace, now: datetime | None = None) -> int:
    now = now or timezone.now()
    if race.status in (WagerRace.Status.COMPLETED, WagerRace.Status.CANCELLED):
        return 0
    return max(int((race.end_date - now).total_seconds()), 0)


def race_prize_rows(race: WagerRace) -> list[dict]:
    percents = parse_prize_distribution(race.prize_distribution)
    amounts = prize_table(race.prize_pool, race.prize_distribution)
    return [{"rank": rank, "percent": percents[rank], "amount": amounts[rank]} for rank in sorted(percents)]


def _cents(amount: Decimal) -> Decimal:
    """Wagers are shown in cents rounded down, everywhere (leaderboards, races, bot), so figures always agree."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def race_standings(race: WagerRace, *, limit: int = 50, offset: int = 0) -> tuple[int, list[StandingRow]]:
    """Frozen results for a completed race, live standings (with the prize each rank would win) otherwise."""
    if race.status == WagerRace.Status.COMPLETED:
        results = RaceResult.objects.filter(race=race).order_by("rank")
        return results.count(), [
            StandingRow(r.rank, r.uid, r.name, _cents(r.wagered), r.prize, r.prize_eligible)
            for r in results[offset : offset + limit]
        ]
    prizes = prize_table(race.prize_pool, race.prize_distribution)
    participants = RaceParticipant.objects.filter(race=race, rank__isnull=False).order_by("rank")
    rows = [
        StandingRow(
            p.rank,
            p.player.uid,
            p.player.name,
            _cents(p.wagered),
            prizes.get(p.rank, Decimal("0")) if p.prize_eligible else Decimal("0"),
            p.prize_eligible,
        )
        for p in participants.select_related("player")[offset : offset + limit]
    ]
    return participants.count(), rows


def race_results(race: WagerRace) -> list[RaceResult]:
    return list(RaceResult.objects.filter(race=race).order_by("rank"))


def race_progress(race: WagerRace) -> list[RaceProgressSample]:
    return list(RaceProgressSample.objects.filter(race=race).order_by("taken_at"))


CSV_HEADER = ["race_id", "race_title", "race_status", "rank", "uid", "name", "wagered", "prize", "prize_eligible"]


def _csv_text(value: str) -> str:
    """Player names come from an untrusted feed: never let a spreadsheet read one as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def races_standings_csv_rows(race_ids: list[int]):
    """Rows for the CSV export: final results of completed races, live standings (with would-be prizes) else."""
    yield CSV_HEADER
    for race in WagerRace.objects.filter(pk__in=race_ids).order_by("-start_date", "pk"):
        offset, page = 0, 1000
        while True:
            _total, rows = race_standings(race, limit=page, offset=offset)
            for r in rows:
                name, title = _csv_text(r.name), _csv_text(race.title)
                yield [race.pk, title, race.status, r.rank, r.uid, name, r.wagered, r.prize, r.prize_eligible]
            if len(rows) < page:
                break
            offset += page
