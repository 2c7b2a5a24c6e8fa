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
from django.db.models import F, Q, QuerySet, Subquery

from core.db_router import primary_only
from core.errors import NotFound
from core.money import cents
from races.feed.models import PERIOD_FIELD, RANK_FIELD, LeaderboardPeriod, Player, TransformationLog
from races.feed.names import public_name_expr
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


# Every name a leaderboard shows is the public one (races.feed.names: public_name_expr), read with the row.
DEEP_OFFSET = 1000  # from here on a page first finds its uids in the index alone, then reads those rows


def _page(period: str, offset: int, limit: int, tiers: TierTable) -> list[dict]:
    field = PERIOD_FIELD[LeaderboardPeriod(period)]
    ordered = leaderboard_queryset(period)
    if offset >= DEEP_OFFSET:
        # Skipping 50,000 rows through the index reads 50,000 table rows; skipping them in the index alone
        # (every ordering column and the uid are in player_lb_*) reads none: 21 ms -> 7 ms at offset 50,000.
        keys = ordered.values_list("uid", flat=True)[offset : offset + limit]
        rows = (
            ordered.filter(uid__in=keys)
            .annotate(public=public_name_expr())
            .values_list("uid", "public", field, "wager_all_time")
        )
    else:
        rows = ordered.annotate(public=public_name_expr()).values_list("uid", "public", field, "wager_all_time")[
            offset : offset + limit
        ]
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


def _store(
    period: str, as_of: datetime | None = None, tiers: TierTable | None = None
) -> tuple[dict, list[dict], list[bytes]]:
    """Rebuild a period's shared payload. Read from the primary, like the sync log that stamps it: rows from a
    lagging replica would be cached, for every process and with no expiry, under a newer sync's time
    (docs/sync.md, "Leaderboard API")."""
    with primary_only():
        as_of = as_of or _last_sync_at()
        rows = _page(period, 0, settings.LEADERBOARD_CACHE_ROWS, tiers or TierTable())
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
        return _store(period)
    local = _local.get(period)
    if local is not None and local[0] == meta["stamp"]:
        return meta, local[1], local[2]
    stored = cache.get(ROWS_KEY.format(period=period))
    if stored is None or stored[0] != meta["stamp"]:  # evicted, or caught between a refresh's two writes
        return _store(period)
    encoded = stored[1]
    rows = [orjson.loads(b) for b in encoded]
    _local[period] = (meta["stamp"], rows, encoded)
    return meta, rows, encoded


def leaderboard_cache_refresh(as_of: datetime | None = None) -> None:
    """Rebuild every period's cached payload (called after a sync commits, and when tiers change)."""
    with primary_only():
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
    return _assemble(period, meta, encoded)


def _assemble(period: str, meta: dict, encoded: list[bytes]) -> bytes:
    head = orjson.dumps({"period": period, "updated_at": meta["updated_at"], "total": meta["total"]})
    return head[:-1] + b',"results":[' + b",".join(encoded) + b"]}"


def leaderboard_page_json_local(
    period: str, limit: int, offset: int, max_age: float = META_TTL_SECONDS
) -> bytes | None:
    """The same bytes as `leaderboard_page_json`, from this process's memory alone — or None when that memory
    is older than `max_age` (META_TTL_SECONDS unless the caller accepts older), was never filled, or the page is
    deeper than the cached rows. No I/O: the ASGI fast path (goatedvips.fastpath) calls it on the event loop and
    hands a None to Django, whose request refreshes the memory for the next ones."""
    seen = _meta_seen.get(period)
    if seen is None or time.monotonic() - seen[0] >= max_age:
        return None
    meta = seen[1]
    local = _local.get(period)
    if local is None or local[0] != meta["stamp"]:
        return None
    encoded = local[2]
    if offset + limit > len(encoded) and len(encoded) < meta["total"]:
        return None
    return _assemble(period, meta, encoded[offset : offset + limit])


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


# --- around a player -----------------------------------------------------------------------------------------

AROUND_MAX = 50


def _neighbours(period: str, me: dict, n: int, *, above: bool) -> list[tuple]:
    """The n players just above (or below) `me` in leaderboard order, nearest first: one walk of the
    player_lb_* index from `me`'s wager (the index bound), so a rank deep in 100,000 players costs the same as
    rank 1. Players tied with `me` on the wager are ordered by first seen, then uid; the walk passes over the
    tied players on the far side of `me` (a handful with cents-precise wagers).

    `me`'s wager, first seen and uid are compared as the database holds them (a subquery on its row), never as
    values read back into Python: SQLite gives a decimal back rounded to 15 digits (a 16-digit wager then sorts
    above or below its own row, which listed the player twice), and only the database's own collation orders
    uids the way the list does (mixed case, `_`, `-`: SQLite, PostgreSQL and Python each differ)."""
    wager = PERIOD_FIELD[LeaderboardPeriod(period)]
    mine = Player.objects.filter(pk=me["id"]).order_by()
    w, seen, uid = (Subquery(mine.values(column)[:1]) for column in (wager, "first_seen", "uid"))
    columns = ("uid", "public", wager, "wager_all_time")
    ranked = Player.objects.filter(**{f"{wager}__gt": 0}).annotate(public=public_name_expr())
    if above:
        nearer = Q(**{f"{wager}__gt": w}) | Q(first_seen__lt=seen) | Q(first_seen=seen, uid__lt=uid)
        walk = ranked.filter(nearer, **{f"{wager}__gte": w}).order_by(wager, "-first_seen", "-uid")
    else:
        nearer = Q(**{f"{wager}__lt": w}) | Q(first_seen__gt=seen) | Q(first_seen=seen, uid__gt=uid)
        walk = ranked.filter(nearer, **{f"{wager}__lte": w}).order_by(f"-{wager}", "first_seen", "uid")
    return list(walk.values_list(*columns)[:n]) if n else []


def leaderboard_around(period: str, uid: str | None, n: int = 5, *, player_id: int | None = None) -> dict:
    """A player's row with up to n rows above and below (fewer at the ends), in the list's row shape.

    {"period", "updated_at", "total", "uid", "rank", "results"}; `rank` is None and `results` empty for a player
    with nothing wagered in the period. An unknown uid is NotFound. Ranks come from the last sync (the same
    numbers as the list). Pages pass the signed-in user's `player_id` instead of a uid (no lookup of the uid)."""
    period = LeaderboardPeriod(period).value
    wager, rank_field = PERIOD_FIELD[LeaderboardPeriod(period)], RANK_FIELD[LeaderboardPeriod(period)]
    me = (
        Player.objects.filter(**({"uid": uid} if player_id is None else {"pk": player_id}))
        .values("id", "uid", wager, "wager_all_time", public=public_name_expr(), rank=F(f"ranks__{rank_field}"))
        .first()
    )
    if me is None:
        raise NotFound("No player with that uid in the feed.")
    head = leaderboard_page(period, 1, 0)
    body = {"period": period, "updated_at": head["updated_at"], "total": head["total"], "uid": me["uid"]}
    rank = me["rank"]
    if me[wager] <= 0 or rank is None:
        return {**body, "rank": None, "results": []}
    tiers = TierTable()
    above = _neighbours(period, me, n, above=True)
    below = _neighbours(period, me, n, above=False)

    def row(position: int, values: tuple) -> dict:
        row_uid, name, wagered, all_time = values
        return {"rank": position, "uid": row_uid, "name": name, "wagered": str(cents(wagered)),
                "tier": tiers.name_for(all_time)}  # fmt: skip

    mine = (me["uid"], me["public"], me[wager], me["wager_all_time"])
    rows = [row(rank - i - 1, v) for i, v in reversed(list(enumerate(above)))]
    rows.append(row(rank, mine))
    rows.extend(row(rank + i + 1, v) for i, v in enumerate(below))
    return {**body, "rank": rank, "results": rows}


def player_ranks(player_id: int) -> dict | None:
    """A player's rank, wager and the ranked total in every period (one query; totals from the cache)."""
    ranks = {field: F(f"ranks__{field}") for field in RANK_FIELD.values()}
    me = Player.objects.filter(pk=player_id).values("uid", "name", "wager_all_time", *PERIOD_FIELD.values(), **ranks)
    me = me.first()
    if me is None:
        return None
    periods = {}
    for period in PERIODS:
        wager, rank = PERIOD_FIELD[LeaderboardPeriod(period)], RANK_FIELD[LeaderboardPeriod(period)]
        ranked = me[wager] > 0 and me[rank] is not None
        periods[period] = {"rank": me[rank] if ranked else None, "wagered": str(cents(me[wager])),
                           "total": leaderboard_page(period, 1, 0)["total"]}  # fmt: skip
    return {"uid": me["uid"], "name": me["name"], "tier": TierTable().name_for(me["wager_all_time"]),
            "periods": periods}  # fmt: skip
