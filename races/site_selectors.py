"""Reads for the public pages (leaderboard search, race lists, player profiles). A fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, QuerySet

from races.leaderboard import CENT, RANK_FIELD, leaderboard_queryset
from races.models import PERIOD_FIELD, LeaderboardPeriod, Player, RaceParticipant, RaceResult, WagerRace


def _tiers() -> list:
    from vip.models import VipTier

    return list(VipTier.objects.order_by("min_wager"))


def tier_colors() -> dict[str, str]:
    return {t.name: t.color for t in _tiers()}


def _tier_for(all_time: Decimal, tiers: list):
    current = None
    for tier in tiers:
        if tier.min_wager <= all_time:
            current = tier
    return current


def leaderboard_search(period: str, query: str) -> QuerySet[Player]:
    """Ranked players whose name contains `query`, in global rank order (ranks stay the global ones)."""
    return leaderboard_queryset(period).filter(name__icontains=query)


def leaderboard_rows(period: str, players) -> list[dict]:
    tiers = _tiers()
    field, rank_field = PERIOD_FIELD[LeaderboardPeriod(period)], RANK_FIELD[LeaderboardPeriod(period)]
    rows = []
    for p in players:
        tier = _tier_for(p.wager_all_time, tiers)
        rows.append(
            {
                "rank": getattr(p, rank_field),
                "uid": p.uid,
                "name": p.name,
                "wagered": str(getattr(p, field).quantize(CENT, rounding=ROUND_DOWN)),
                "tier": tier.name if tier else None,
            }
        )
    return rows


def races_live() -> list[WagerRace]:
    return list(WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("end_date"))


def races_upcoming() -> list[WagerRace]:
    return list(WagerRace.objects.filter(status=WagerRace.Status.UPCOMING).order_by("start_date")[:10])


def race_archive() -> QuerySet[WagerRace]:
    return (
        WagerRace.objects.filter(status=WagerRace.Status.COMPLETED)
        .annotate(winners=Count("results"))
        .select_related("archive")
        .order_by("-end_date", "-pk")
    )


@dataclass
class PlayerProfile:
    player: Player
    periods: list[tuple[str, Decimal, int | None]]  # label, wagered, global rank
    tier: object | None
    next_tier: object | None
    progress_pct: int
    to_next: Decimal
    races: list[RaceResult]
    live_entries: list[RaceParticipant]
    user: object | None  # the linked site user, only if they chose to show their profile


def player_profile(uid: str) -> PlayerProfile | None:
    player = Player.objects.filter(uid=uid).select_related("site_user").first()
    if player is None:
        return None
    tiers = _tiers()
    tier = _tier_for(player.wager_all_time, tiers)
    later = [t for t in tiers if t.min_wager > player.wager_all_time]
    next_tier = later[0] if later else None
    progress, to_next = 100, Decimal("0")
    if next_tier:
        floor = tier.min_wager if tier else Decimal("0")
        span = next_tier.min_wager - floor
        progress = int((player.wager_all_time - floor) / span * 100) if span > 0 else 0
        to_next = next_tier.min_wager - player.wager_all_time
    periods = [
        (label, player.wager_for(value), getattr(player, RANK_FIELD[LeaderboardPeriod(value)]))
        for value, label in LeaderboardPeriod.choices
    ]
    user = getattr(player, "site_user", None)
    return PlayerProfile(
        player=player,
        periods=periods,
        tier=tier,
        next_tier=next_tier,
        progress_pct=max(0, min(progress, 100)),
        to_next=to_next,
        races=list(RaceResult.objects.filter(player=player).select_related("race").order_by("-race__end_date")[:20]),
        live_entries=list(
            RaceParticipant.objects.filter(player=player, race__status=WagerRace.Status.LIVE, rank__isnull=False)
            .select_related("race")
            .order_by("race__end_date")
        ),
        user=user if user is not None and user.show_stats and user.is_active else None,
    )
