"""Leaderboard reads, served from one cached payload per period that each successful sync rebuilds after commit.

A warm request makes no database query: the top `LEADERBOARD_CACHE_ROWS` rows of every period live in the cache
already serialized, with the total and the time of the sync they come from. Deeper pages (rare) read the
database through the leaderboard indexes. A failed sync never touches the cache, so the last good data stays.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from core.money import cents
from races.models import PERIOD_FIELD, LeaderboardPeriod, Player, TransformationLog
from vip.selectors import TierTable

logger = logging.getLogger(__name__)

CACHE_KEY = "api:leaderboard:{period}"
PERIODS = [p.value for p in LeaderboardPeriod]


def leaderboard_queryset(period: str) -> QuerySet[Player]:
    """Ranked players of a period, in rank order (players with nothing wagered in the period are not ranked)."""
    period = LeaderboardPeriod(period)
    wager = PERIOD_FIELD[period]
    # Ordering by the wager index columns (not the stored rank) lets PostgreSQL walk player_lb_* for any page.
    return Player.objects.filter(**{f"{wager}__gt": 0}).order_by(f"-{wager}", "first_seen", "uid")


def _page(period: str, offset: int, limit: int, tiers: TierTable) -> list[dict]:
    field = PERIOD_FIELD[LeaderboardPeriod(period)]
    rows = leaderboard_queryset(period).values_list("uid", "name", field, "wager_all_time")[offset : offset + limit]
    return [
        {
            "rank": offset + 1 + i,
            "uid": uid,
            "name": name,
            "wagered": str(cents(wagered)),
            "tier": tiers.name_for(all_time),
        }
        for i, (uid, name, wagered, all_time) in enumerate(rows)
    ]


def _last_sync_at() -> datetime | None:
    log = TransformationLog.objects.filter(payload__kind="sync", payload__ok=True).order_by("-created_at").first()
    if log is None:
        return None
    as_of = log.payload.get("as_of")
    return datetime.fromisoformat(as_of) if as_of else log.created_at


# The cached form of a period: a small meta entry (checked on every request) and the rows, each already
# serialized to JSON. A process keeps the rows it last read in memory, keyed by the meta's stamp, so a warm
# request costs one tiny cache read and a byte join — no query, no serializer, no 100 KB unpickle.
ROWS_KEY = "api:leaderboard:{period}:rows"
_local: dict[str, tuple[str, list[dict], list[bytes]]] = {}
# How long a process trusts the meta it last read before asking the cache again. Another process's sync shows
# up within this time (the "leaderboard.updated" event is coalesced to one a second anyway); this process's own
# syncs show up at once.
META_TTL_SECONDS = 1.0
_meta_seen: dict[str, tuple[float, dict]] = {}


def _iso(as_of: datetime | None) -> str | None:
    return as_of.isoformat().replace("+00:00", "Z") if as_of else None


def _store(period: str, as_of: datetime | None, tiers: TierTable) -> tuple[dict, list[dict], list[bytes]]:
    rows = _page(period, 0, settings.LEADERBOARD_CACHE_ROWS, tiers)
    total = len(rows) if len(rows) < settings.LEADERBOARD_CACHE_ROWS else leaderboard_queryset(period).count()
    encoded = [orjson.dumps(r) for r in rows]
    meta = {"stamp": uuid.uuid4().hex, "period": period, "updated_at": _iso(as_of), "total": total}
    cache.set_many(
        {CACHE_KEY.format(period=period): meta, ROWS_KEY.format(period=period): (meta["stamp"], encoded)},
        timeout=None,
    )
    _local[period] = (meta["stamp"], rows, encoded)
    _meta_seen[period] = (time.monotonic(), meta)
    return meta, rows, encoded


def _meta(period: str) -> dict | None:
    seen = _meta_seen.get(period)
    if seen is not None and time.monotonic() - seen[0] < META_TTL_SECONDS:
        return seen[1]
    meta = cache.get(CACHE_KEY.format(period=period))
    if meta is not None:
        _meta_seen[period] = (time.monotonic(), meta)
    return meta


def _current(period: str) -> tuple[dict, list[dict], list[bytes]]:
    meta = _meta(period)
    if meta is None:
        return _store(period, _last_sync_at(), TierTable())
    local = _local.get(period)
    if local is not None and local[0] == meta["stamp"]:
        return meta, local[1], local[2]
    stored = cache.get(ROWS_KEY.format(period=period))
    if stored is None or stored[0] != meta["stamp"]:  # evicted, or caught between a refresh's two writes
        return _store(period, _last_sync_at(), TierTable())
    encoded = stored[1]
    rows = [orjson.loads(b) for b in encoded]
    _local[period] = (meta["stamp"], rows, encoded)
    return meta, rows, encoded


def leaderboard_cache_refresh(as_of: datetime | None = None) -> None:
    """Rebuild every period's cached payload (called after a sync commits, and when tiers change)."""
    as_of = as_of or _last_sync_at()
    tiers = TierTable()
    for period in PERIODS:
        _store(period, as_of, tiers)


def leaderboard_cache_clear() -> None:
    _local.clear()
    _meta_seen.clear()
    cache.delete_many([key.format(period=p) for p in PERIODS for key in (CACHE_KEY, ROWS_KEY)])


def _window(period: str, limit: int, offset: int) -> tuple[dict, list[dict] | None, list[bytes] | None]:
    """(meta, rows, encoded rows) for the page; rows are None when the page is deeper than the cache."""
    meta, rows, encoded = _current(period)
    if offset + limit <= len(rows) or len(rows) >= meta["total"]:
        return meta, rows[offset : offset + limit], encoded[offset : offset + limit]
    return meta, None, None


def leaderboard_page(period: str, limit: int, offset: int) -> dict:
    """The API payload: {"period", "updated_at", "total", "results"} (docs/design.md §6)."""
    period = LeaderboardPeriod(period).value
    try:
        meta, rows, _encoded = _window(period, limit, offset)
    except Exception:  # cache (Redis) down: serve from the database rather than fail
        logger.warning("leaderboard: cache unavailable, reading the database", exc_info=True)
        return _uncached(period, limit, offset)
    if rows is None:
        rows = _page(period, offset, limit, TierTable())
    return {"period": period, "updated_at": meta["updated_at"], "total": meta["total"], "results": rows}


def leaderboard_page_json(period: str, limit: int, offset: int) -> bytes:
    """The same payload as JSON bytes, assembled from the pre-serialized rows when they are cached."""
    period = LeaderboardPeriod(period).value
    try:
        meta, _rows, encoded = _window(period, limit, offset)
    except Exception:
        logger.warning("leaderboard: cache unavailable, reading the database", exc_info=True)
        return orjson.dumps(_uncached(period, limit, offset))
    if encoded is None:
        return orjson.dumps(leaderboard_page(period, limit, offset))
    head = orjson.dumps({"period": period, "updated_at": meta["updated_at"], "total": meta["total"]})
    return head[:-1] + b',"results":[' + b",".join(encoded) + b"]}"


def _uncached(period: str, limit: int, offset: int) -> dict:
    tiers = TierTable()
    as_of = _last_sync_at()
    return {
        "period": period,
        "updated_at": _iso(as_of),
        "total": leaderboard_queryset(period).count(),
        "results": _page(period, offset, limit, tiers),
    }


def leaderboard_top(period: str = LeaderboardPeriod.MONTHLY, limit: int = 10) -> list[dict]:
    return leaderboard_page(period, limit, 0)["results"]


def leaderboard_updated_at() -> datetime | None:
    stamp = leaderboard_page(LeaderboardPeriod.MONTHLY, 1, 0)["updated_at"]
    return datetime.fromisoformat(stamp) if stamp else None
