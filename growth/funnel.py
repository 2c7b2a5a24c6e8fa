"""The referral funnel, new referred players per week, and their attribution to campaigns
(docs/analytics.md, "Funnel").

Steps over a period of whole UTC days:
1. visits: unique visitors per day of the public site's pages, summed over the days (growth.VisitDay);
2. referral clicks: unique clickers per day on `/go/`, summed over the days (growth.ReferralClickDay);
3. sign-ups: accounts (not staff) created in the period;
4. confirmed email: those of them whose address is confirmed;
5. verified players: those of them that hold a feed player;
6. wagering this month: those of them whose player wagered in the current month (the feed's counter).
Steps 1-2 count traffic (a visitor on three days counts three times); steps 3-6 follow one group of accounts,
so each is a subset of the one before. Three queries whatever the data size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from growth.models import PlayerAttribution, ReferralClickDay, VisitDay
from races.models import Player


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    source: str
    of_previous: float | None = None  # this step over the one before (None for the first, or after a zero)


def funnel(first: date, last: date) -> list[FunnelStep]:
    """The funnel over the UTC days first..last (both included)."""
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    visits = VisitDay.objects.filter(day__range=(first, last)).aggregate(n=Sum("unique_visitors"))["n"] or 0
    clicks = ReferralClickDay.objects.filter(day__range=(first, last)).aggregate(n=Sum("unique_visitors"))["n"] or 0
    users = get_user_model().objects.filter(is_staff=False, date_joined__gte=since, date_joined__lt=until)
    group = users.aggregate(
        signups=Count("pk"),
        confirmed=Count("pk", filter=Q(email_verified=True)),
        verified=Count("pk", filter=Q(email_verified=True, player__isnull=False)),
        wagering=Count("pk", filter=Q(email_verified=True, player__isnull=False, player__wager_month__gt=0)),
    )
    steps = [
        FunnelStep("visits", "Visits", visits, "unique visitors per day of the site's pages, summed"),
        FunnelStep("referral_clicks", "Referral clicks", clicks, "unique clickers per day on /go/, summed"),
        FunnelStep("signups", "Sign-ups", group["signups"], "accounts created in the period (not staff)"),
        FunnelStep("confirmed_email", "Confirmed email", group["confirmed"], "of those, address confirmed"),
        FunnelStep("verified_players", "Verified players", group["verified"], "of those, holding a feed player"),
        FunnelStep("wagering_this_month", "Wagering this month", group["wagering"], "of those, wagered this month"),
    ]
    for before, step in pairwise(steps):
        step.of_previous = step.count / before.count if before.count else None
    return steps


def funnel_rows(first: date, last: date) -> list[tuple]:
    rows: list[tuple] = [("step", "count", "share_of_previous", "source")]
    for step in funnel(first, last):
        share = "" if step.of_previous is None else f"{step.of_previous:.4f}"
        rows.append((step.key, step.count, share, step.source))
    return rows


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def new_players_weekly(first: date, last: date) -> list[tuple[date, int, int]]:
    """(Monday, new referred players that ISO week, of which attributed to a campaign) for every week that
    touches first..last, oldest first: two grouped queries."""
    monday = week_start(first)
    since = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    new = dict(_per_day(Player.objects.filter(first_seen__gte=since), "first_seen"))
    credited = dict(_per_day(PlayerAttribution.objects.filter(player__first_seen__gte=since), "player__first_seen"))
    weeks = []
    while monday <= last:
        days = [monday + timedelta(days=i) for i in range(7)]
        weeks.append((monday, sum(new.get(d, 0) for d in days), sum(credited.get(d, 0) for d in days)))
        monday += timedelta(days=7)
    return weeks


def _per_day(queryset, field: str):
    return queryset.annotate(d=TruncDate(field, tzinfo=UTC)).values("d").annotate(n=Count("pk")).values_list("d", "n")


def campaign_attribution_rows(first: date, last: date) -> list[tuple]:
    """Per campaign: clicks and unique clickers in first..last, and the new players first seen then and credited
    to it (an estimate). Two grouped queries."""
    clicks = {
        c: (n, u)
        for c, n, u in ReferralClickDay.objects.filter(day__range=(first, last)).values("campaign")
        .annotate(n=Sum("clicks"), u=Sum("unique_visitors")).values_list("campaign", "n", "u")
    }  # fmt: skip
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    credited = dict(
        PlayerAttribution.objects.filter(player__first_seen__gte=since, player__first_seen__lt=until)
        .values("campaign").annotate(n=Count("pk")).values_list("campaign", "n")
    )  # fmt: skip
    rows: list[tuple] = [("campaign", "clicks", "unique_clickers", "new_players_attributed")]
    for campaign in sorted(set(clicks) | set(credited)):
        n, u = clicks.get(campaign, (0, 0))
        rows.append((campaign, n, u, credited.get(campaign, 0)))
    return rows
