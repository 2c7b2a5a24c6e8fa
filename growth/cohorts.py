"""Wager history for cohorts and prize ROI, and the monthly cohorts of new referred players.

The feed knows only current counters, so once a UTC day `wager_snapshots_take` writes each player's all-time
wager as it stands at the day's first run (a few minutes past midnight), only for players whose figure changed
since their last snapshot. A player's all-time wager at the start of day D is then their latest snapshot on or
before D (0 when there is none: nothing wagered yet). What a set of players wagered between two days is the
difference of those figures, summed by the database.

A cohort is the players first seen in the feed in one UTC month (their conversion). Their wagering in each
following month is all-time growth between the 1st of that month and the 1st of the next (the current month:
up to now), counted from 0 in the cohort's own month (a new player has wagered nothing under the code before
joining). Months before the first snapshot have no data and are shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from growth.models import PlayerWagerSnapshot
from races.models import Player

COHORT_MONTHS = 6
ZERO = Decimal("0")
BATCH = 2000


def wager_at(day: date, player_ref: str = "pk") -> Coalesce:
    """A player's all-time wager at the start of `day` (OuterRef(player_ref) names the player): the latest
    snapshot on or before it, 0 without one."""
    latest = PlayerWagerSnapshot.objects.filter(player=OuterRef(player_ref), day__lte=day).order_by("-day")
    amount = DecimalField(max_digits=24, decimal_places=8)
    return Coalesce(Subquery(latest.values("all_time")[:1], output_field=amount), ZERO, output_field=amount)


def history_starts() -> date | None:
    """The first day with a snapshot: before it, wager history is unknown (not zero)."""
    first = PlayerWagerSnapshot.objects.order_by("day").values_list("day", flat=True).first()
    return first


def wager_snapshots_take(now: datetime | None = None) -> int:
    """Today's snapshot of every player whose all-time wager changed since their last one. Once a day: a run
    that finds today's snapshot already taken does nothing (the hourly schedule is for a missed midnight)."""
    today = (now or timezone.now()).astimezone(UTC).date()
    if PlayerWagerSnapshot.objects.filter(day=today).exists():
        return 0
    changed = (
        Player.objects.annotate(last=wager_at(today))
        .filter(Q(wager_all_time__gt=0) & ~Q(wager_all_time=F("last")))
        .values_list("pk", "wager_all_time")
    )
    written, batch = 0, []
    for pk, all_time in changed.iterator(chunk_size=BATCH):
        batch.append(PlayerWagerSnapshot(player_id=pk, day=today, all_time=all_time))
        if len(batch) >= BATCH:
            written += len(PlayerWagerSnapshot.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        written += len(PlayerWagerSnapshot.objects.bulk_create(batch, ignore_conflicts=True))
    return written


def month_start(day: date, add: int = 0) -> date:
    index = day.month - 1 + add
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass
class CohortCell:
    wagered: Decimal
    active: int  # players of the cohort who wagered in that month
    share: float  # active / cohort size, 0..1


@dataclass
class Cohort:
    month: date
    players: int
    cells: list[CohortCell | None] = field(default_factory=list)  # month 0, 1, ... to now (None: no data)
    later: int = 0  # the table's months this cohort has not reached yet

    @property
    def not_yet(self) -> range:
        return range(self.later)


def cohort_table(months: int = COHORT_MONTHS, now: datetime | None = None) -> list[Cohort]:
    """The last `months` monthly cohorts (oldest first) with their wagering in each month since: one query for
    the cohorts' players with their all-time wager at each month boundary, and one for the history's start."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    starts = [month_start(today, -i) for i in range(months - 1, -1, -1)]
    boundaries = starts[1:]  # the 1st of each month after the first; the current month ends now
    since = datetime(starts[0].year, starts[0].month, 1, tzinfo=UTC)
    players = Player.objects.filter(first_seen__gte=since).annotate(
        **{f"at{i}": wager_at(b) for i, b in enumerate(boundaries)}
    )
    fields = ["first_seen", "wager_all_time", *(f"at{i}" for i in range(len(boundaries)))]
    known = history_starts()
    cohorts = {s: Cohort(s, 0, [CohortCell(ZERO, 0, 0.0) for _ in range(months - k)], k) for k, s in enumerate(starts)}
    for row in _rows(players, fields):
        first = row[0].astimezone(UTC).date()
        cohort = cohorts[month_start(first)]
        cohort.players += 1
        k = starts.index(cohort.month)
        # All-time at the 1st of each month from the cohort's own (0) to now.
        marks = [ZERO, *row[2 + k :], row[1]]
        for j, cell in enumerate(cohort.cells):
            grown = max(marks[j + 1] - marks[j], ZERO)
            cell.wagered += grown
            cell.active += grown > 0
    for k, cohort in enumerate(cohorts.values()):
        for j, cell in enumerate(cohort.cells):
            cell.share = cell.active / cohort.players if cohort.players else 0.0
            if not _known(known, starts[k + j] if j else None, boundaries[k + j] if k + j < len(boundaries) else None):
                cohort.cells[j] = None
    return list(cohorts.values())


def _known(history: date | None, start: date | None, end: date | None) -> bool:
    """Whether a month's growth is known: its starting figure (None: the cohort's own month, from 0) and its
    ending one (None: now, the live figure) each come from before the history began, or not."""
    return all(edge is None or (history is not None and history <= edge) for edge in (start, end))


def _rows(queryset: QuerySet, fields: list[str]):
    return queryset.values_list(*fields).iterator(chunk_size=BATCH)


def cohort_rows(months: int = COHORT_MONTHS, now: datetime | None = None) -> list[tuple]:
    """The CSV: one row per cohort and month since (month 0 is the cohort's own)."""
    rows: list[tuple] = [("cohort", "players", "month", "months_after", "wagered", "active_players", "active_share")]
    for cohort in cohort_table(months, now):
        for j, cell in enumerate(cohort.cells):
            month = month_start(cohort.month, j).isoformat()[:7]
            if cell is None:
                rows.append((cohort.month.isoformat()[:7], cohort.players, month, j, "", "", ""))
            else:
                rows.append((cohort.month.isoformat()[:7], cohort.players, month, j,
                             cell.wagered.quantize(Decimal("0.01")), cell.active, f"{cell.share:.3f}"))  # fmt: skip
    return rows
