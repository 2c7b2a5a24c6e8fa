"""Prize ROI per race and per raffle: did the prizes lift wagering?

For each finished race (its final results) and drawn raffle (its entries in the draw), the participants'
wagering during the event is compared with the same players' wagering in the equal period just before it, both
from the daily all-time snapshots (growth.cohorts: whole UTC days, the event's start day to the day after its
end). The lift is the difference; set against the prizes paid it gives the wager lift per dollar of prize.

The caveat, shown beside the figures: participants are players who chose to race (or wagered most), so they
may have wagered more anyway; the previous period is the same players, not a control group; and a lift in
wagers is not the affiliate's revenue (that is the casino's commission on the house edge).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from growth.cohorts import ZERO, history_starts, wager_at
from races.models import RaceResult, WagerRace

MAX_EVENTS = 10  # of each kind, the latest to end in the period
CAVEAT = (
    "Participants chose to take part (or wagered most), so they may have wagered more anyway; the comparison is "
    "the same players' previous period of equal length, not a control group; whole UTC days; wagers are not "
    "revenue."
)


@dataclass
class PrizeRoi:
    kind: str  # race or raffle
    id: int
    title: str
    starts: date  # first day counted
    ends: date  # the day after the last day counted
    participants: int
    prize_cost: Decimal
    during: Decimal | None  # None: the history does not reach back to the previous period (or the end is today)
    before: Decimal | None

    @property
    def last_day(self) -> date:
        return self.ends - timedelta(days=1)

    @property
    def lift(self) -> Decimal | None:
        return None if self.during is None or self.before is None else self.during - self.before

    @property
    def lift_share(self) -> Decimal | None:
        """Lift as a fraction of the previous period (None when that was 0 or unknown)."""
        return None if self.lift is None or not self.before else self.lift / self.before

    @property
    def lift_per_prize(self) -> Decimal | None:
        return None if self.lift is None or not self.prize_cost else self.lift / self.prize_cost

    @property
    def verdict(self) -> str:
        if self.lift is None:
            return "not enough history"
        if self.participants == 0:
            return "no participants"
        return "lifted wagering" if self.lift > 0 else "no lift"


def day_span(start: datetime, end: datetime) -> tuple[date, date]:
    """The whole UTC days an event covers: its start's day, to the day after its end (its end's day when it
    ends exactly at midnight)."""
    first = start.astimezone(UTC).date()
    last = end.astimezone(UTC)
    after = last.date() if last.time() == datetime.min.time() else last.date() + timedelta(days=1)
    return first, max(after, first + timedelta(days=1))


def _growth(participants: QuerySet, starts: date, ends: date) -> tuple[int, Decimal, Decimal]:
    """(participants, wagered during [starts, ends), wagered in the equal period before) in one query."""
    before = starts - (ends - starts)
    figures = participants.annotate(
        w_before=wager_at(before, "player_id"), w_start=wager_at(starts, "player_id"), w_end=wager_at(ends, "player_id")
    ).aggregate(
        n=Count("pk"), during=Sum(F("w_end") - F("w_start")), previous=Sum(F("w_start") - F("w_before"))
    )  # fmt: skip
    return figures["n"] or 0, figures["during"] or ZERO, figures["previous"] or ZERO


def prize_roi(since: datetime, now: datetime | None = None) -> list[PrizeRoi]:
    """The latest MAX_EVENTS races and raffles that ended since `since`, newest first: 2 queries for the events
    and their prizes per kind, one for the history's start, and one per event (at most 2 × MAX_EVENTS)."""
    today = (now or timezone.now()).astimezone(UTC).date()
    known = history_starts()
    races = list(WagerRace.objects.filter(status=WagerRace.Status.COMPLETED, end_date__gte=since)
                 .order_by("-end_date")[:MAX_EVENTS])  # fmt: skip
    raffles = list(Raffle.objects.filter(status=Raffle.Status.DRAWN, ends_at__gte=since)
                   .order_by("-ends_at")[:MAX_EVENTS])  # fmt: skip
    race_prizes = dict(RaceResult.objects.filter(race__in=races).values("race").annotate(t=Sum("prize"))
                       .values_list("race", "t"))  # fmt: skip
    raffle_prizes = dict(RaffleWinner.objects.filter(raffle__in=raffles).values("raffle").annotate(t=Sum("prize"))
                         .values_list("raffle", "t"))  # fmt: skip
    events = [("race", r.pk, r.title, r.start_date, r.end_date, RaceResult.objects.filter(race=r),
               race_prizes.get(r.pk)) for r in races]  # fmt: skip
    events += [("raffle", r.pk, r.title, r.starts_at, r.ends_at, RaffleEntry.objects.filter(raffle=r, in_draw=True),
                raffle_prizes.get(r.pk)) for r in raffles]  # fmt: skip
    found = []
    for kind, pk, title, start, end, participants, prize in events:
        starts, ends = day_span(start, end)
        n, during, before = _growth(participants, starts, ends)
        enough = known is not None and known <= starts - (ends - starts) and ends <= today
        found.append(PrizeRoi(kind, pk, title, starts, ends, n, prize or ZERO,
                              during if enough else None, before if enough else None))  # fmt: skip
    return sorted(found, key=lambda e: (e.ends, e.kind, e.id), reverse=True)


def _cents(value: Decimal | None) -> Decimal | str:
    return "" if value is None else value.quantize(Decimal("0.01"))


def prize_roi_rows(since: datetime, now: datetime | None = None) -> list[tuple]:
    rows: list[tuple] = [("kind", "id", "title", "first_day", "last_day", "participants", "prize_cost",
                          "wagered_during", "wagered_previous_period", "lift", "lift_share", "lift_per_prize_dollar",
                          "verdict")]  # fmt: skip
    for e in prize_roi(since, now):
        share = "" if e.lift_share is None else e.lift_share.quantize(Decimal("0.0001"))
        rows.append((e.kind, e.id, e.title, e.starts.isoformat(), e.last_day.isoformat(),
                     e.participants, _cents(e.prize_cost), _cents(e.during), _cents(e.before), _cents(e.lift), share,
                     _cents(e.lift_per_prize), e.verdict))  # fmt: skip
    return rows
