"""The operators' analytics: history charts on the dashboard, each with a CSV export of the same numbers.

Each builder returns a `core.charts.Chart` from a fixed number of queries whatever the data size: counts per
UTC day (or hour) are grouped by the database, medians of support times are computed over the tickets of the
period (bounded by the period).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import VerificationRequest
from core.charts import Chart, Series, exact
from growth.cohorts import cohort_rows, cohort_table
from growth.funnel import campaign_attribution_rows, funnel, funnel_rows, new_players_weekly
from growth.roi import CAVEAT, prize_roi, prize_roi_rows
from growth.selectors import referral_click_rows
from payouts.models import Payout
from races.feed.selectors import sync_duration, sync_errors
from races.feed.volume import feed_volume
from races.models import HistoricalRace, Player, WagerDay
from support.models import SupportTicket, TicketMessage
from vip.models import BonusCodeClaim, WheelSpin

PERIODS = (30, 90)  # days the dashboard offers
MAX_RACES = 20


def _days(days: int, now: datetime) -> list[date]:
    today = now.astimezone(UTC).date()
    return [today - timedelta(days=i) for i in range(days - 1, -1, -1)]


def _since(days: int, now: datetime) -> datetime:
    first = _days(days, now)[0]
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


def _per_day(queryset, field: str, days: int, now: datetime, value=None) -> list:
    """Per UTC day of `field`: the count of rows (or the sum of `value`), zero on days with none."""
    rows = (
        queryset.filter(**{f"{field}__gte": _since(days, now)})
        .annotate(day=TruncDate(field, tzinfo=UTC))
        .values("day")
        .annotate(n=Sum(value) if value else Count("pk"))
    )
    found = {r["day"]: r["n"] for r in rows}
    return [found.get(d, 0) or 0 for d in _days(days, now)]


@dataclass(frozen=True)
class Figure:
    """One named figure of the analytics, with what it is (shown beside it and exported with it)."""

    key: str
    label: str
    value: Decimal
    definition: str


WAGERED_THIS_MONTH = "Wagered this month"
DAILY_PEAKS_THIS_MONTH = "Sum of daily peaks of “today”, this month"


def wager_figures(now: datetime) -> list[Figure]:
    """The month's wager figures. "Wagered this month" is the feed's own month counter, read through its one owner
    (`feed_volume`, as the dashboard's key figure); the sum of the daily bars is a different figure and is named
    and explained as one."""
    volume, _active_today = feed_volume()
    today = now.astimezone(UTC).date()
    peaks = WagerDay.objects.filter(date__gte=today.replace(day=1), date__lte=today).aggregate(s=Sum("wagered"))["s"]
    return [
        Figure("wagered-this-month", WAGERED_THIS_MONTH, volume["month"],
               "The feed's this_month counter, added up over every player, as of the last successful sync "
               "(the same figure as the dashboard's key figure)."),
        Figure("daily-peaks-this-month", DAILY_PEAKS_THIS_MONTH, peaks or Decimal("0"),
               "The bars of “Wagered per day” added up since the 1st: each UTC day's highest total of the feed's "
               "today counter. Not the same as “Wagered this month”: the casino's day and month may not end at UTC "
               "midnight, players who left the feed still count in past days, and a day without syncs counts as "
               "zero (on a demo site the past days are generated)."),
    ]  # fmt: skip


def wager_figure_rows(days: int, now: datetime) -> list[tuple]:
    """The month's wager figures as a CSV (the period is the current month whatever `days` says)."""
    return [("figure", "value", "definition")] + [(f.label, exact(f.value), f.definition) for f in wager_figures(now)]


def wager_volume(days: int, now: datetime) -> Chart:
    found = dict(WagerDay.objects.filter(date__gte=_days(days, now)[0]).values_list("date", "wagered"))
    labels = [d.isoformat() for d in _days(days, now)]
    values = [found.get(d, Decimal("0")) for d in _days(days, now)]
    return Chart("wager-volume", "Wagered per day (the day's peak of the feed's “today” counter)", labels,
                 [Series("Day's peak of “today”", values)], unit="money", x_title="day (UTC)",
                 empty="No daily history yet: it builds up with each day's syncs.")  # fmt: skip


def active_players(days: int, now: datetime) -> Chart:
    found = dict(WagerDay.objects.filter(date__gte=_days(days, now)[0]).values_list("date", "active_players"))
    values = [found.get(d, 0) for d in _days(days, now)]
    labels = [d.isoformat() for d in _days(days, now)]
    return Chart("active-players", "Active players per day (wagered that day)", labels, [Series("Players", values)],
                 x_title="day (UTC)")  # fmt: skip


def signups_and_verifications(days: int, now: datetime) -> Chart:
    signups = _per_day(get_user_model().objects.filter(is_staff=False), "date_joined", days, now)
    approved = VerificationRequest.objects.filter(status=VerificationRequest.Status.APPROVED)
    verified = _per_day(approved, "decided_at", days, now)
    series = [Series("Sign-ups", signups), Series("Verifications approved", verified)]
    return Chart("signups", "Sign-ups and verifications per day", [d.isoformat() for d in _days(days, now)], series,
                 x_title="day (UTC)")  # fmt: skip


def new_referred_players(days: int, now: datetime) -> Chart:
    """Referral conversions: players whose first appearance in the feed (`first_seen`) fell on each day, with the
    running weekly total (the last 7 days, that day included)."""
    daily = _per_day(Player.objects.all(), "first_seen", days + 6, now)
    weekly = [sum(daily[i - 6 : i + 1]) for i in range(6, len(daily))]
    return Chart("new-players", "New referred players per day (first seen in the feed)",
                 [d.isoformat() for d in _days(days, now)],
                 [Series("New that day", daily[6:]), Series("New in the last 7 days", weekly)], x_title="day (UTC)",
                 empty="No player has appeared in the feed in this period.")  # fmt: skip


def new_referred_players_weekly(days: int, now: datetime) -> Chart:
    """New referred players per ISO week (Monday first) touching the period, and those credited to a campaign."""
    weeks = new_players_weekly(_days(days, now)[0], _days(days, now)[-1])
    return Chart("new-players-weekly", "New referred players per week, and those attributed to a campaign",
                 [monday.isoformat() for monday, _, _ in weeks],
                 [Series("New that week", [n for _, n, _ in weeks]),
                  Series("Attributed to a campaign (estimate)", [a for _, _, a in weeks])],
                 x_title="week (Monday, UTC)", empty="No player has appeared in the feed in this period.")  # fmt: skip


def _races(days: int, now: datetime) -> list[HistoricalRace]:
    races = HistoricalRace.objects.filter(end_date__gte=_since(days, now)).order_by("-end_date")[:MAX_RACES]
    return list(reversed(races))


def _ended(races: list[HistoricalRace]) -> list[str]:
    return [r.end_date.astimezone(UTC).date().isoformat() for r in races]


def race_participation(days: int, now: datetime) -> Chart:
    races = _races(days, now)
    return Chart("race-participation", "Participants per finished race", [r.title for r in races],
                 [Series("Participants", [r.participant_count for r in races])], x_title="race (by the day it ended)",
                 empty="No race finished in this period.", axis_labels=_ended(races))  # fmt: skip


def race_prizes(days: int, now: datetime) -> Chart:
    races = _races(days, now)
    paid = dict(
        Payout.objects.filter(race_id__in=[r.race_id for r in races], status=Payout.Status.PAID)
        .values("race_id").annotate(total=Sum("amount")).values_list("race_id", "total")
    )  # fmt: skip
    won = [Decimal(r.metadata.get("paid", "0")) for r in races]
    paid_out = [paid.get(r.race_id, Decimal("0")) for r in races]
    return Chart("race-prizes", "Prizes per finished race", [r.title for r in races],
                 [Series("Prizes won", won), Series("Prizes paid out", paid_out)], unit="money",
                 x_title="race (by the day it ended)", empty="No race finished in this period.",
                 axis_labels=_ended(races))  # fmt: skip


def rewards_issued(days: int, now: datetime) -> Chart:
    claims = _per_day(BonusCodeClaim.objects.all(), "claimed_at", days, now)
    spins = _per_day(WheelSpin.objects.all(), "created_at", days, now)
    payouts = _per_day(Payout.objects.filter(status=Payout.Status.PAID), "paid_at", days, now)
    return Chart("rewards", "Rewards issued per day", [d.isoformat() for d in _days(days, now)],
                 [Series("Bonus code claims", claims), Series("Wheel spins", spins), Series("Payouts paid", payouts)],
                 x_title="day (UTC)")  # fmt: skip


def support_times(days: int, now: datetime) -> Chart:
    """Median hours to the first staff reply and to closing, by the day a ticket was opened."""
    tickets = SupportTicket.objects.filter(created_at__gte=_since(days, now))
    opened = dict(tickets.values_list("pk", "created_at"))
    first_reply = dict(
        TicketMessage.objects.filter(ticket__created_at__gte=_since(days, now), is_staff_reply=True)
        .values("ticket_id").annotate(first=Min("created_at")).values_list("ticket_id", "first")
    )  # fmt: skip
    closed = dict(tickets.filter(closed_at__isnull=False).values_list("pk", "closed_at"))
    response, resolution = defaultdict(list), defaultdict(list)
    for pk, created in opened.items():
        day = created.astimezone(UTC).date()
        if pk in first_reply:
            response[day].append((first_reply[pk] - created).total_seconds() / 3600)
        if pk in closed:
            resolution[day].append((closed[pk] - created).total_seconds() / 3600)

    def medians(by_day):
        return [round(statistics.median(by_day[d]), 2) if by_day.get(d) else 0.0 for d in _days(days, now)]

    return Chart("support", "Support: median hours to first response and to close (by day opened)",
                 [d.isoformat() for d in _days(days, now)],
                 [Series("First response", medians(response)), Series("Time to close", medians(resolution))],
                 unit="hours", kind="line", x_title="day opened (UTC)")  # fmt: skip


CHARTS: dict[str, Callable[[int, datetime], Chart]] = {
    "wager-volume": wager_volume,
    "active-players": active_players,
    "signups": signups_and_verifications,
    "new-players": new_referred_players,
    "new-players-weekly": new_referred_players_weekly,
    "race-participation": race_participation,
    "race-prizes": race_prizes,
    "rewards": rewards_issued,
    "support": support_times,
    "sync-duration": sync_duration,
    "sync-errors": sync_errors,
}


# Exports that are tables, not a chart's numbers: key → (the permission it needs, its rows for `days`).
TABLES: dict[str, tuple[str, Callable[[int, datetime], list[tuple]]]] = {
    "referral-clicks": ("growth.view_referralclickday", lambda days, now: referral_click_rows(_days(days, now)[0])),
    "funnel": ("growth.view_visitday", lambda days, now: funnel_rows(*_bounds(days, now))),
    "campaign-attribution": (
        "growth.view_playerattribution",
        lambda days, now: campaign_attribution_rows(*_bounds(days, now)),
    ),
    "cohorts": ("growth.view_playerwagersnapshot", lambda days, now: cohort_rows(now=now)),
    "prize-roi": ("growth.view_playerwagersnapshot", lambda days, now: prize_roi_rows(_since(days, now), now)),
    "wager-figures": ("races.view_wagerrace", wager_figure_rows),
}


def _bounds(days: int, now: datetime) -> tuple[date, date]:
    return _days(days, now)[0], _days(days, now)[-1]


def analytics_growth(days: int, now: datetime | None = None) -> dict:
    """The growth tables of the analytics page (funnel, cohorts, prize ROI): what their CSVs export."""
    now = now or timezone.now()
    return {"funnel": funnel(*_bounds(days, now)), "cohorts": cohort_table(now=now),
            "roi": prize_roi(_since(days, now), now), "roi_caveat": CAVEAT}  # fmt: skip


def analytics_charts(days: int = 30, now: datetime | None = None, keys=None) -> list[Chart]:
    now = now or timezone.now()
    return [CHARTS[key](days, now) for key in (keys or CHARTS)]


def parse_days(raw: str | None) -> int:
    """The dashboard's period: 30 or 90 days; anything else is the default (30)."""
    return int(raw) if raw in {str(p) for p in PERIODS} else PERIODS[0]
