"""Numbers for the operators' dashboard (admin index): key figures, the work waiting in each queue, the feed's
health and the live races. A fixed number of queries whatever the data size.

"Wagered today / this week / this month" are `races.feed.volume.feed_volume()`, the one owner of those figures
(docs/analytics.md): the dashboard, the analytics section and its CSV all read them from there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from accounts.models import VerificationRequest
from payouts.models import Payout
from races.feed.selectors import FeedStatus, feed_status
from races.feed.volume import feed_volume
from races.models import Player, RaceProgressSample, TransformationLog, WagerAdjustment
from races.selectors.races import races_live
from support.models import SupportTicket


@dataclass
class LiveRace:
    id: int
    title: str
    prize_pool: Decimal
    ends_at: datetime
    time_left: timedelta


@dataclass
class Dashboard:
    players: int = 0
    wagered_today: Decimal = Decimal("0")
    wagered_week: Decimal = Decimal("0")
    wagered_month: Decimal = Decimal("0")
    live_races: list[LiveRace] = field(default_factory=list)
    pending_verifications: int = 0
    open_tickets: int = 0
    unassigned_tickets: int = 0
    oldest_unassigned: datetime | None = None  # when the longest-waiting unassigned ticket was opened
    payouts_to_approve: int = 0
    payouts_to_approve_total: Decimal = Decimal("0")
    payouts_to_pay: int = 0
    payouts_to_pay_total: Decimal = Decimal("0")
    adjustments_to_review: int = 0
    last_sync: TransformationLog | None = None
    last_sync_age: timedelta | None = None
    last_sync_outcome: str = ""
    last_failure: TransformationLog | None = None
    feed: FeedStatus | None = None
    volume_series: list[tuple[datetime, Decimal]] = field(default_factory=list)
    chart_race: str = ""
    chart_series: list[tuple[str, list[tuple[datetime, int]]]] = field(default_factory=list)


# What the last-sync tile says for a log entry's type (the log's own labels are Info/Warning/Error).
SYNC_OUTCOMES = {"info": "Succeeded", "warning": "Succeeded with warnings", "error": "Failed"}
VOLUME_POINTS = 120  # the last 120 syncs: two hours at the default interval


def dashboard_summary(now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    volume, _active_today = feed_volume()
    d = Dashboard(
        players=Player.objects.count(),
        wagered_today=volume["today"],
        wagered_week=volume["week"],
        wagered_month=volume["month"],
    )
    d.live_races = [
        LiveRace(r.pk, r.title, r.prize_pool, r.end_date, max(r.end_date - now, timedelta(0))) for r in races_live()[:5]
    ]
    d.pending_verifications = VerificationRequest.objects.filter(status=VerificationRequest.Status.PENDING).count()
    unassigned = Q(assigned_to__isnull=True)
    tickets = SupportTicket.objects.exclude(status=SupportTicket.Status.CLOSED).aggregate(
        open=Count("pk"), unassigned=Count("pk", filter=unassigned), oldest=Min("created_at", filter=unassigned)
    )
    d.open_tickets, d.unassigned_tickets = tickets["open"], tickets["unassigned"]
    d.oldest_unassigned = tickets["oldest"]
    pending, approved = Q(status=Payout.Status.PENDING), Q(status=Payout.Status.APPROVED)
    payouts = Payout.objects.aggregate(
        to_approve=Count("pk", filter=pending), to_approve_total=Sum("amount", filter=pending),
        to_pay=Count("pk", filter=approved), to_pay_total=Sum("amount", filter=approved),
    )  # fmt: skip
    d.payouts_to_approve, d.payouts_to_pay = payouts["to_approve"], payouts["to_pay"]
    d.payouts_to_approve_total = payouts["to_approve_total"] or Decimal("0")
    d.payouts_to_pay_total = payouts["to_pay_total"] or Decimal("0")
    d.adjustments_to_review = WagerAdjustment.objects.filter(status=WagerAdjustment.Status.PENDING_REVIEW).count()
    d.last_sync = TransformationLog.objects.order_by("-created_at").first()
    d.last_sync_age = now - d.last_sync.created_at if d.last_sync else None
    d.last_sync_outcome = SYNC_OUTCOMES.get(d.last_sync.type, "") if d.last_sync else ""
    d.last_failure = TransformationLog.objects.filter(type=TransformationLog.Type.ERROR).order_by("-created_at").first()
    d.feed = feed_status()
    syncs = TransformationLog.objects.filter(payload__kind="sync", payload__ok=True).order_by("-created_at")
    d.volume_series = [
        (log.created_at, Decimal(log.payload["volume"]["month"]))
        for log in reversed(syncs.only("created_at", "payload")[:VOLUME_POINTS])
        if "volume" in log.payload
    ]
    if d.live_races:
        race_id = d.live_races[0].id
        d.chart_race = d.live_races[0].title
        d.chart_series = _rank_series(RaceProgressSample.objects.filter(race_id=race_id).order_by("taken_at"))
    return d


def _rank_series(samples) -> list[tuple[str, list[tuple[datetime, int]]]]:
    """Rank over time of the players in the latest sample's top 10."""
    samples = list(samples)
    if not samples:
        return []
    top = [row[1] for row in samples[-1].standings[:10]]
    series: dict[str, list[tuple[datetime, int]]] = {name: [] for name in top}
    for sample in samples:
        for _uid, name, _wagered, rank in sample.standings:
            if name in series:
                series[name].append((sample.taken_at, rank))
    return list(series.items())
