"""Leaderboard reads, served from one cached payload per period that each successful sync rebuilds after commit.

A warm request makes no database query: the top `LEADERBOARD_CACHE_ROWS` rows of every period live in the cache
already serialized, with the total and the time of the sync they come from. Deeper pages (rare) read the
database through the leaderboard indexes. A failed sync never touches the cache, so the last good data stays.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from races.models import PERIOD_FIELD, LeaderboardPeriod, Player, TransformationLog

logger = logging.getLogger(__name__)

CACHE_KEY = "api:leaderboard:{period}"
CENT = Decimal("0.01")
PERIODS = [p.value for p in LeaderboardPeriod]
RANK_FIELD = {
    LeaderboardPeriod.TODAY: "rank_today",
    LeaderboardPeriod.WEEKLY: "rank_weekly",
    LeaderboardPeriod.MONTHLY: "rank_monthly",
    LeaderboardPeriod.ALL_TIME: "rank_all_time",
}


def leaderboard_queryset(period: str) -> QuerySet[Player]:
    """Ranked players of a period, in rank order (players with nothing wagered in the period are not ranked)."""
    period = LeaderboardPeriod(period)
    wager = PERIOD_FIELD[period]
    # Ordering by the wager index columns (not the stored rank) lets PostgreSQL walk player_lb_* for any page.
    return Player.objects.filter(**{f"{wager}__gt": 0}).order_by(f"-{wager}", "first_seen", "uid")


class _Tiers:
    """Tier name by all-time wager, from the operator-edited VipTier table."""

    def __init__(self) -> None:
        from vip.models import VipTier

        tiers = list(VipTier.objects.order_by("min_wager").values_list("min_wager", "name"))
        self.bounds = [t[0] for t in tiers]
        self.names = [t[1] for t in tiers]

    def __call__(self, all_time: Decimal) -> str | None:
        i = bisect_right(self.bounds, all_time)
        return self.names[i - 1] if i else None


def _page(period: str, offset: int, limit: int, tiers: _Tiers) -> list[dict]:
    field = PERIOD_FIELD[LeaderboardPeriod(period)]
    rows = leaderboard_queryset(period).values_list("uid", "name", field, "wager_all_time")[offset : offset + limit]
    return [
        {
            "rank": offset + 1 + i,
            "uid": uid,
            "name": name,
            "wagered": str(wagered.quantize(CENT, rounding=ROUND_DOWN)),
            "tier": tiers(all_time),
        }
        for i, (uid, name, wagered, all_time) in enumerate(rows)
    ]


def _last_sync_at() -> datetime | None:
    log = TransformationLog.objects.filter(payload__kind="sync", payload__ok=True).order_by("-created_at").first()
    if log is None:
        return None
    as_of = log.payload.get("as_of")
    return datetime.fromisoformat(as_of) if as_of else log.created_at


def _build(period: str, as_of: datetime | None, tiers: _Tiers) -> dict:
    top = _page(period, 0, settings.LEADERBOARD_CACHE_ROWS, tiers)
    total = len(top) if len(top) < settings.LEADERBOARD_CACHE_ROWS else leaderboard_queryset(period).count()
    return {
        "period": period,
        "updated_at": as_of.isoformat().replace("+00:00", "Z") if as_of else None,
        "total": total,
        "rows": top,
    }


def leaderboard_cache_refresh(as_of: datetime | None = None) -> None:
    """Rebuild every period's cached payload (called after a sync commits, and when tiers change)."""
    as_of = as_of or _last_sync_at()
    tiers = _Tiers()
    cache.set_many({CACHE_KEY.format(period=p): _build(p, as_of, tiers) for p in PERIODS}, timeout=None)


def leaderboard_cache_clear() -> None:
    cache.delete_many([CACHE_KEY.format(period=p) for p in PERIODS])


def leaderboard_page(period: str, limit: int, offset: int) -> dict:
    """The API payload: {"period", "updated_at", "total", "results"} (DESIGN.md §6)."""
    period = LeaderboardPeriod(period).value
    key = CACHE_KEY.format(period=period)
    try:
        cached = cache.get(key)
    except Exception:  # cache (Redis) down: serve from the database rather than fail
        logger.warning("leaderboard: cache unavailable, reading the database", exc_info=True)
        return _uncached(period, limit, offset)
    if cached is None:
        cached = _build(period, _last_sync_at(), _Tiers())
        cache.set(key, cached, timeout=None)
    rows = cached["rows"]
    if offset + limit <= len(rows) or len(rows) >= cached["total"]:
        results = rows[offset : offset + limit]
    else:
        results = _page(period, offset, limit, _Tiers())
    return {"period": period, "updated_at": cached["updated_at"], "total": cached["total"], "results": results}


def _uncached(period: str, limit: int, offset: int) -> dict:
    tiers = _Tiers()
    as_of = _last_sync_at()
    return {
        "period": period,
        "updated_at": as_of.isoformat().replace("+00:00", "Z") if as_of else None,
        "total": leaderboard_queryset(period).count(),
        "results": _page(period, offset, limit, tiers),
    }


def leaderboard_top(period: str = LeaderboardPeriod.MONTHLY, limit: int = 10) -> list[dict]:
    return leaderboard_page(period, limit, 0)["results"]


def leaderboard_updated_at() -> datetime | None:
    stamp = leaderboard_page(LeaderboardPeriod.MONTHLY, 1, 0)["updated_at"]
    return datetime.fromisoformat(stamp) if stamp else None
