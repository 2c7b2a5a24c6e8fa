"""Reads on players and races."""

from __future__ import annotations

from django.db.models import QuerySet

from races.models import PERIOD_FIELD, LeaderboardPeriod, Player, WagerRace


def leaderboard_queryset(period: str) -> QuerySet[Player]:
    """Players in leaderboard order for a period: wager desc, then first seen, then uid (DESIGN.md §5)."""
    field = PERIOD_FIELD[LeaderboardPeriod(period)]
    return Player.objects.order_by(f"-{field}", "first_seen", "uid")


def leaderboard_preview(*, period: str = LeaderboardPeriod.MONTHLY, limit: int = 10) -> list[Player]:
    return list(leaderboard_queryset(period)[:limit])


def race_current(race_type: str = WagerRace.Type.MONTHLY) -> WagerRace | None:
    """The live race of a type; if none is live, the next upcoming one."""
    live = WagerRace.objects.filter(type=race_type, status=WagerRace.Status.LIVE).order_by("-start_date").first()
    if live:
        return live
    return WagerRace.objects.filter(type=race_type, status=WagerRace.Status.UPCOMING).order_by("start_date").first()
