"""`sync_wagers`: fetch the feed → validate → upsert Players → ranks → live races → log → cache → announce.

One sync at a time: a PostgreSQL advisory lock on PostgreSQL (it needs nothing but the database and dies with a
killed worker's connection), a cache lock elsewhere (embedded SQLite: one process). The fetch runs outside
any transaction (upstream takes seconds); everything that writes runs in one transaction, so a failed sync changes
no row and the last good data keeps being served. The only trace of a failure is its TransformationLog row.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core import metrics
from core.audit import audit_record
from core.models import AuditEntry
from core.money import cents, money_text
from notifications.services import notify
from races import realtime
from races.credentials import feed_token_current, token_warning_level
from races.feed import FeedBatch, FeedError, FeedRow, feed_load
from races.models import Player, TransformationLog, WagerDay
from races.selectors.leaderboard import leaderboard_cache_refresh
from races.services.standings import races_refresh_after_sync
from vip.selectors import TierTable

logger = logging.getLogger(__name__)

LOCK_KEY = "sync:wagers:lock"
STATUS_KEY = "sync:wagers:last"
Q8 = Decimal("0.00000001")
_SQLITE_DIGITS = Context(prec=15)


@dataclass
class SyncResult:
    ok: bool
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    duration_ms: int = 0
    error: str = ""
    skipped: bool = False
    races: list[int] = field(default_factory=list)
    # Why live races were not refreshed although the players were (a collapse of a period's total), or "".
    races_refused: str = ""
    counter_resets: dict[int, int] = field(default_factory=dict)  # race → players whose counter went down
    log_id: int | None = None

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
        }

    def summary(self) -> str:
        if self.skipped:
            return "another sync is already running; this one did nothing"
        if not self.ok:
            return f"sync failed: {self.error}"
        c = self.counts()
        return (
            f"synced {c['received']:,} rows: {c['created']:,} created, {c['updated']:,} updated, "
            f"{c['unchanged']:,} unchanged, {c['rejected']:,} rejected, {c['duplicates']:,} duplicate uids "
            f"in {self.duration_ms:,} ms"
        )


# --- the lock ------------------------------------------------------------------------------------------------
# On PostgreSQL a session advisory lock: it needs nothing but the database (a Redis outage must not stop
# syncs) and dies with the connection if a worker is killed. Elsewhere (embedded SQLite, one process) the cache.

_PG_LOCK_ID = 0x60A7ED  # any constant shared by every process of this app
_PG_HOLDER = "advisory"
_LOCAL_HOLDER = "local"
_local_lock = threading.Lock()


def _lock_acquire() -> str | None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_PG_LOCK_ID])
            return _PG_HOLDER if cursor.fetchone()[0] else None
    token = uuid.uuid4().hex
    try:
        return token if cache.add(LOCK_KEY, token, timeout=settings.SYNC_LOCK_SECONDS) else None
    except Exception:
        # Cache down (possible only with SQLite + Redis, never in production, which locks in PostgreSQL):
        # fall back to this process's own lock rather than skip syncing until the cache returns.
        logger.warning("sync_wagers: cache unavailable for the lock; using an in-process lock", exc_info=True)
        return _LOCAL_HOLDER if _local_lock.acquire(blocking=False) else None


def _lock_release(holder: str) -> None:
    if holder == _PG_HOLDER:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_PG_LOCK_ID])
        return
    if holder == _LOCAL_HOLDER:
        _local_lock.release()
        return
    # Only the holder releases; a lock that expired and was re-taken by another sync is left alone.
    try:
        if cache.get(LOCK_KEY) == holder:
            cache.delete(LOCK_KEY)
    except Exception:  # the lock expires on its own (SYNC_LOCK_SECONDS)
        logger.warning("sync_wagers: could not release the cache lock", exc_info=True)


def sync_running() -> bool:
    """Whether some process holds the sync lock right now."""
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted)",
                    [_PG_LOCK_ID],
                )
                return bool(cursor.fetchone()[0])
        return cache.get(LOCK_KEY) is not None
    except Exception:  # a status read must never break the page showing it
        logger.warning("sync_running: could not read the lock state", exc_info=True)
        return False


# --- upsert: PostgreSQL fast path ------------------------------------------------------------------------------

_PG_TEMP = """
CREATE TEMPORARY TABLE sync_feed_rows (
    uid varchar(64) NOT NULL, name varchar(64) NOT NULL,
    wager_today numeric(24, 8) NOT NULL, wager_week numeric(24, 8) NOT NULL,
    wager_month numeric(24, 8) NOT NULL, wager_all_time numeric(24, 8) NOT NULL
) ON COMMIT DROP
"""


def _rank_columns(source: str) -> str:
    """Four rank expressions over `source` rows. Rank = position by wager desc, ties by first seen then uid
    (docs/design.md §5); a player with nothing wagered in a period is not ranked for it (NULL).

    No PARTITION BY is needed to keep the others out of the count: every positive wager sorts before every other,
    so a ranked player's position among all rows is its position among the ranked ones. The window's order is
    then exactly the leaderboard index's (`player_lb_*`), and the four sorts cost half as much (measured on 50,000
    players: 471 ms → 227 ms, identical ranks)."""
    return ",\n".join(
        f"CASE WHEN {source}.{wager} > 0 THEN ROW_NUMBER() OVER ("
        f"ORDER BY {source}.{wager} DESC, {source}.first_seen ASC, {source}.uid ASC) END AS {rank}"
        for rank, wager in RANK_COLUMNS.items()
    )


RANK_COLUMNS = {
    "rank_today": "wager_today",
    "rank_weekly": "wager_week",
    "rank_monthly": "wager_month",
    "rank_all_time": "wager_all_time",
}
_DATA = ("name", "wager_today", "wager_week", "wager_month", "wager_all_time")


def _tuple(alias: str, columns) -> str:
    return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"


# One statement merges the feed over the table and writes only players whose data differ (each at most once per
# sync, none when nothing moved); the ranks follow in their own narrow table (_RANK_SQL), so a rank that moved
# never rewrites a player row. Counts come from the merge.
_PG_UPSERT = f"""
WITH merged AS (
    SELECT f.uid, f.name, f.wager_today, f.wager_week, f.wager_month, f.wager_all_time,
           COALESCE(p.first_seen, %(now)s) AS first_seen,
           (p.id IS NULL) AS is_new,
           (p.id IS NOT NULL AND {_tuple("p", _DATA)} IS DISTINCT FROM {_tuple("f", _DATA)}) AS changed
    FROM sync_feed_rows f LEFT JOIN races_player p ON p.uid = f.uid
), written AS (
    INSERT INTO races_player AS p (uid, {", ".join(_DATA)}, first_seen, last_seen, updated_at)
    SELECT uid, {", ".join(_DATA)}, first_seen, %(now)s, %(now)s FROM merged WHERE is_new OR changed
    ON CONFLICT (uid) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in (*_DATA, "last_seen", "updated_at"))}
    RETURNING 1
)
SELECT (SELECT COUNT(*) FILTER (WHERE is_new) FROM merged),
       (SELECT COUNT(*) FILTER (WHERE changed) FROM merged),
       (SELECT COUNT(*) FROM written)
"""  # noqa: S608 - assembled from the column constants above, never from input


# COPY's text format, written here rather than value by value through psycopg's write_row: a feed row's values
# are already checked strings and Decimals, and one f-string per line is cheaper (measured side by side, COPY of
# 50,000 rows into a table with its id and uid indexes: 602 ms → 467 ms, the same rows stored). Backslash, tab,
# newline and carriage return are the only characters the format escapes (validated names hold none of the last
# three; the escape is kept for safety).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_BLOCK = 2_000  # lines per write: PostgreSQL parses one block while the next is formatted


def _copy_rows(copy, rows: list[FeedRow], tail: str = "") -> None:
    """Write `rows` as COPY text lines (uid, name, the four wagers, then `tail`: more tab-led columns)."""
    end = tail + "\n"
    for start in range(0, len(rows), _COPY_BLOCK):
        copy.write(
            "".join(
                f"{r.uid}\t{r.name.translate(_COPY_ESCAPES)}\t{r.today}\t{r.week}\t{r.month}\t{r.all_time}{end}"
                for r in rows[start : start + _COPY_BLOCK]
            )
        )


# A first load into an empty table skips the merge (every row is new: COPY straight into the table) and, when
# big, does what pg_restore does: the secondary indexes of races_player are built once at the end instead of
# growing row by row, and the rank table's foreign key is checked once by one join when it is put back instead of
# once per inserted rank row (measured on 50,000 players: 0.5 s of deferred row checks at commit → 0.04 s). The
# constraint indexes (id, uid) stay.
BULK_LOAD_MIN_ROWS = 5_000
_PG_SECONDARY_INDEXES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = 'races_player'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""
_PG_RANK_FOREIGN_KEYS = """
SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'races_playerrank'::regclass AND contype = 'f'
ORDER BY 1
"""


def _table_empty(cursor) -> bool:
    """Whether races_player has no row, asked under a lock that keeps other writers out until the sync commits
    (this lock lets readers in), so the answer holds for the load that follows."""
    cursor.execute("SELECT EXISTS (SELECT 1 FROM races_player)")
    if cursor.fetchone()[0]:
        return False
    cursor.execute("LOCK TABLE races_player IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute("SELECT EXISTS (SELECT 1 FROM races_player)")
    return not cursor.fetchone()[0]


def _load_empty(cursor, rows: list[FeedRow], now: datetime) -> tuple[int, int, int]:
    """The first load: COPY the clean rows straight into races_player (the feed was de-duplicated by uid while
    validated), then the ranks. Inside the sync's transaction: a failure rolls back the set-aside indexes and
    foreign keys with everything else, and no other session ever sees the tables without them."""
    indexes, foreign_keys = [], []
    if len(rows) >= BULK_LOAD_MIN_ROWS and _exclusive_now(cursor):
        cursor.execute(_PG_SECONDARY_INDEXES)
        indexes = cursor.fetchall()
        cursor.execute(_PG_RANK_FOREIGN_KEYS)
        foreign_keys = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")  # names PostgreSQL quoted itself (quote_ident)
        for name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE races_playerrank DROP CONSTRAINT {name}")
    columns = ", ".join(("uid", *_DATA, "first_seen", "last_seen", "updated_at"))
    with cursor.copy(f"COPY races_player ({columns}) FROM STDIN") as copy:
        _copy_rows(copy, rows, f"\t{now.isoformat()}" * 3)
    for _name, definition in indexes:
        cursor.execute(definition)
    # No ANALYZE here: what follows in this sync reads the whole table whatever the statistics say (the rank
    # statement timed the same with and without; ANALYZE itself took 0.2 s), and autovacuum analyzes a table
    # that grew from nothing within its next round.
    ranks_written = player_ranks_recompute()
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE races_playerrank ADD CONSTRAINT {name} {definition}")
    return len(rows), 0, len(rows) + ranks_written


def _exclusive_now(cursor) -> bool:
    """Take the locks DROP INDEX and DROP CONSTRAINT need, only if nobody is reading the (empty) tables at this
    moment: they then block readers until the sync commits, and waiting for a reader would block everyone behind
    it."""
    try:
        with transaction.atomic():  # a savepoint: a refused lock leaves the sync's transaction usable
            cursor.execute("LOCK TABLE races_player, races_playerrank IN ACCESS EXCLUSIVE MODE NOWAIT")
    except OperationalError:
        return False
    return True


def _write_postgres(rows: list[FeedRow], now: datetime) -> tuple[int, int, int]:
    """COPY the feed into a temporary table, merge and write in one statement, then the ranks (a first load:
    straight in). Returns (created, updated, rows written: players and ranks)."""
    with connection.cursor() as cursor:
        if _table_empty(cursor):
            return _load_empty(cursor, rows, now)
        cursor.execute(_PG_TEMP)
        with cursor.copy(
            "COPY sync_feed_rows (uid, name, wager_today, wager_week, wager_month, wager_all_time) FROM STDIN"
        ) as copy:
            _copy_rows(copy, rows)
        # The merge hashes one table by uid: the planner needs the row count and uid's statistics, not the other
        # columns' (measured on 50,000 rows: 123 ms for every column, 35 ms for uid; the same one-batch hash join).
        cursor.execute("ANALYZE sync_feed_rows (uid)")
        cursor.execute(_PG_UPSERT, {"now": now})
        created, updated, written = cursor.fetchone()
        cursor.execute("DROP TABLE sync_feed_rows")
    return created, updated, written + player_ranks_recompute()


# --- upsert: portable path (SQLite) ----------------------------------------------------------------------------


def _as_stored(value: Decimal) -> Decimal:
    """What the database will give back for a value: SQLite keeps decimals as doubles (15 significant digits)."""
    if connection.vendor == "sqlite":
        return _SQLITE_DIGITS.create_decimal_from_float(float(value)).quantize(Q8)
    return value.quantize(Q8)


def _player(r: FeedRow, **extra) -> Player:
    return Player(
        name=r.name, wager_today=r.today, wager_week=r.week, wager_month=r.month, wager_all_time=r.all_time, **extra
    )


def _upsert_portable(rows: list[FeedRow], now: datetime) -> tuple[int, int]:
    fields = ("name", "wager_today", "wager_week", "wager_month", "wager_all_time")
    existing = {
        uid: (pk, values)
        for pk, uid, *values in Player.objects.values_list("pk", "uid", *fields).iterator(chunk_size=5000)
    }
    new, changed = [], []
    for r in rows:
        incoming = (r.name, _as_stored(r.today), _as_stored(r.week), _as_stored(r.month), _as_stored(r.all_time))
        if r.uid not in existing:
            new.append(_player(r, uid=r.uid, first_seen=now, last_seen=now))
            continue
        pk, values = existing[r.uid]
        stored = (values[0], *(_as_stored(v) for v in values[1:]))
        if stored != incoming:
            changed.append(_player(r, pk=pk, last_seen=now, updated_at=now))
    Player.objects.bulk_create(new, batch_size=2000)
    Player.objects.bulk_update(changed, [*fields, "last_seen", "updated_at"], batch_size=2000)
    return len(new), len(changed)


# --- ranks ------------------------------------------------------------------------------------------------------

# Ranks are written as two kinds of change: an UPDATE of the rows whose ranks moved (and only those: an upsert's
# ON CONFLICT would lock, so dirty, every row it meets) and an INSERT for ranked players without a row yet (a
# missing row reads as "unranked", so unranked newcomers need none).
_RANKED = f"SELECT races_player.id AS player_id, {_rank_columns('races_player')} FROM races_player"  # noqa: S608
_ANY_RANK = " OR ".join(f"ranked.{r} IS NOT NULL" for r in RANK_COLUMNS)
_RANK_UPDATE_SET = ", ".join(f"{r} = ranked.{r}" for r in RANK_COLUMNS)
_RANK_MOVED = f"{_tuple('races_playerrank', RANK_COLUMNS)} IS DISTINCT FROM {_tuple('ranked', RANK_COLUMNS)}"
_NO_ROW = "NOT EXISTS (SELECT 1 FROM races_playerrank x WHERE x.player_id = ranked.player_id)"
_RANK_NEW = f"{_NO_ROW} AND ({_ANY_RANK})"
_RANK_COLUMN_LIST = ", ".join(RANK_COLUMNS)
# PostgreSQL: one statement, the window sorts done once (both parts read the table as it was before either).
_PG_RANK_SQL = f"""
WITH ranked AS ({_RANKED}),
moved AS (
    UPDATE races_playerrank SET {_RANK_UPDATE_SET} FROM ranked
    WHERE races_playerrank.player_id = ranked.player_id AND {_RANK_MOVED}
    RETURNING 1
), added AS (
    INSERT INTO races_playerrank (player_id, {_RANK_COLUMN_LIST})
    SELECT player_id, {_RANK_COLUMN_LIST} FROM ranked WHERE {_RANK_NEW}
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM moved) + (SELECT COUNT(*) FROM added)
"""  # noqa: S608 - assembled from the column constants above, never from input
# SQLite (no writing CTEs): the same two changes as two statements.
_PORTABLE_RANK_SQL = [
    f"""UPDATE races_playerrank SET {_RANK_UPDATE_SET} FROM ({_RANKED}) AS ranked
        WHERE races_playerrank.player_id = ranked.player_id AND {_RANK_MOVED}""",  # noqa: S608
    f"""INSERT INTO races_playerrank (player_id, {_RANK_COLUMN_LIST})
        SELECT player_id, {_RANK_COLUMN_LIST} FROM ({_RANKED}) AS ranked WHERE {_RANK_NEW}""",  # noqa: S608
]


def player_ranks_recompute() -> int:
    """Store every player's global rank for the four periods (PlayerRank, the table's only writer): only ranks
    that moved and newly ranked players are written. Returns how many rank rows were written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_RANK_SQL)
            return cursor.fetchone()[0]
        written = 0
        for sql in _PORTABLE_RANK_SQL:
            cursor.execute(sql)
            written += max(cursor.rowcount, 0)
        return written


# --- the service ---------------------------------------------------------------------------------------------


def _log_failure(result: SyncResult, batch: FeedBatch | None, source: str) -> None:
    payload = {"kind": "sync", "ok": False, "source": source, **result.counts()}
    if batch and batch.reject_reasons:
        payload["reject_reasons"] = batch.reject_reasons
    log = TransformationLog.objects.create(
        type=TransformationLog.Type.ERROR,
        message=f"Feed sync failed: {result.error}",
        payload=payload,
        duration_ms=result.duration_ms,
        error_message=result.error,
    )
    result.log_id = log.pk
    logger.warning("sync_wagers: %s", result.error)


def _period_start(period: str, moment: datetime) -> datetime | None:
    """When the period containing `moment` began (upstream resets its counter then); None: it never resets."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


_COLLAPSE_PERIODS = {"week": "week", "month": "month", "all_time": "all-time"}


def _collapse(volume: dict[str, Decimal], as_of: datetime) -> str:
    """Why this sync's totals cannot be trusted for race standings, or "" when they can. A period's total may fall
    by at most SYNC_COLLAPSE_FRACTION between two syncs inside one period; more is a broken or reset upstream
    figure, and live races keep their standings until a sane sync arrives (players still update)."""
    previous = (
        TransformationLog.objects.filter(payload__kind="sync", payload__ok=True, payload__has_key="volume")
        .order_by("-created_at")
        .first()
    )
    if previous is None or "as_of" not in previous.payload:
        return ""
    previous_at = datetime.fromisoformat(previous.payload["as_of"])
    for period, label in _COLLAPSE_PERIODS.items():
        old = previous.payload["volume"].get(period)
        start = _period_start(period, as_of)
        if old is None or (start is not None and previous_at < start):
            continue  # no figure to compare, or the period turned over in between (a known reset)
        old, new = Decimal(old), volume[period]
        if old > 0 and new < old * (1 - Decimal(str(settings.SYNC_COLLAPSE_FRACTION))):
            drop = int((old - new) / old * 100)
            return (
                f"the {label} total fell {drop} % (from {money_text(old)} to {money_text(new)}) since the sync of "
                f"{previous_at:%Y-%m-%d %H:%M} UTC with no {label} reset in between"
            )
    return ""


def _linked_all_time() -> dict[int, Decimal]:
    """All-time wagers of the players linked to an account (the ones a tier change is told to)."""
    return dict(Player.objects.filter(site_user__isnull=False).values_list("pk", "wager_all_time"))


def players_tier_notify(before: dict[int, Decimal]) -> int:
    """Tell each linked player who climbed to a higher VIP tier in this sync (once per tier)."""
    if not before:
        return 0
    table = TierTable()
    told = 0
    for player in Player.objects.filter(pk__in=before).select_related("site_user"):
        old, new = table.tier_for(before[player.pk]), table.tier_for(player.wager_all_time)
        if new is None or (old is not None and new.min_wager <= old.min_wager):
            continue
        following = table.progress(player.wager_all_time).next
        body = f"Next: {following.name} at {money_text(following.min_wager)} all-time." if following else "The top!"
        note = notify(
            player.site_user, "vip.tier", title=f"You reached {new.name}!", body=body, url="/vip/",
            dedupe_key=f"vip-tier:{new.slug}",
        )  # fmt: skip
        told += note is not None
    return told


def _apply(batch: FeedBatch, result: SyncResult, fetched_at: datetime, started: float) -> None:
    with transaction.atomic():
        tiers_before = _linked_all_time()
        if connection.vendor == "postgresql":
            result.created, result.updated, rows_written = _write_postgres(batch.rows, fetched_at)
        else:
            result.created, result.updated = _upsert_portable(batch.rows, fetched_at)
            rows_written = result.created + result.updated + player_ranks_recompute()
        result.unchanged = len(batch.rows) - result.created - result.updated
        totals = Player.objects.aggregate(
            today=Sum("wager_today"), week=Sum("wager_week"), month=Sum("wager_month"),
            all_time=Sum("wager_all_time"), active_today=Count("pk", filter=Q(wager_today__gt=0)),
        )  # fmt: skip
        active_today = totals.pop("active_today") or 0
        volume = {k: v or Decimal("0") for k, v in totals.items()}
        wager_day_record(fetched_at, volume["today"], active_today)
        result.races_refused = _collapse(volume, fetched_at)
        players_tier_notify(tiers_before)
        ended = []
        if not result.races_refused:
            refresh = races_refresh_after_sync(fetched_at)
            result.races, result.counter_resets, ended = refresh.races, refresh.resets, refresh.ended
        result.duration_ms = int((time.monotonic() - started) * 1000)
        notes = [f"{batch.rejected:,} rows rejected"] if batch.rejected else []
        if result.races_refused:
            notes.append(f"live races not updated: {result.races_refused}")
            logger.warning("sync_wagers: live races not updated: %s", result.races_refused)
        if ended:
            ids = ", ".join(f"#{pk}" for pk in ended)
            notes.append(f"race {ids} ended before this data arrived: left as it was")
        if result.counter_resets:
            total = sum(result.counter_resets.values())
            notes.append(f"{total:,} player counter(s) went down inside a live race (upstream reset): standings kept")
        payload = {
            "kind": "sync",
            "ok": True,
            "source": batch.source,
            "fetch_ms": batch.fetch_ms,
            "rows_written": rows_written,
            "races": result.races,
            "as_of": fetched_at.isoformat(),
            # Totals over every player: the dashboard's wager-volume chart, and the next sync's collapse check.
            "volume": {k: str(cents(v)) for k, v in volume.items()},
            **result.counts(),
        }
        if batch.reject_reasons:
            payload["reject_reasons"] = batch.reject_reasons
        if result.races_refused:
            payload["races_refused"] = result.races_refused
        if ended:
            payload["races_ended_before_data"] = ended
        if result.counter_resets:
            payload["counter_resets"] = {str(race): n for race, n in result.counter_resets.items()}
        log = TransformationLog.objects.create(
            type=TransformationLog.Type.WARNING if notes else TransformationLog.Type.INFO,
            message=f"Feed sync: {result.created:,} created, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged" + (f" ({'; '.join(notes)})" if notes else ""),
            payload=payload,
            duration_ms=result.duration_ms,
            created_at=timezone.now(),
        )
        result.log_id = log.pk

        def after_commit() -> None:
            # Caches and sockets only ever see committed data. Neither may undo the sync if it fails: the
            # cache falls back to the database and clients re-snapshot when they reconnect.
            try:
                leaderboard_cache_refresh(as_of=fetched_at)
            except Exception:
                logger.exception("sync_wagers: could not refresh the leaderboard cache")
            realtime.leaderboard_updated_announce(fetched_at.isoformat().replace("+00:00", "Z"))

        transaction.on_commit(after_commit, robust=True)


def sync_wagers(*, as_of: datetime | None = None) -> SyncResult:
    """Run one sync now. Never raises for feed problems: the result (and its log row) says what happened.

    ``as_of`` is when the data was observed: by default when the feed's response *arrived* (upstream can take
    minutes with retries, and a race that ended meanwhile must not take it); replays of a recorded feed pass
    the original time.
    """
    token = _lock_acquire()
    if token is None:
        logger.info("sync_wagers: another sync holds the lock; skipping")
        metrics.SYNCS.labels("skipped").inc()
        return SyncResult(ok=True, skipped=True)
    started = time.monotonic()
    result = SyncResult(ok=False)
    batch: FeedBatch | None = None
    source = "affiliate" if settings.AFFILIATE_API_URL else "demo"
    try:
        try:
            batch = feed_load()
        except FeedError as exc:
            result.error = str(exc)
        else:
            fetched_at = as_of or batch.received_at or timezone.now()
            result.received, result.rejected, result.duplicates = batch.received, batch.rejected, batch.duplicates
            try:
                _apply(batch, result, fetched_at, started)
                result.ok = True
            except Exception as exc:  # a database error mid-sync: the transaction rolled back, log why
                logger.exception("sync_wagers: writing the sync failed")
                result.created = result.updated = result.unchanged = 0
                result.error = f"database error while writing: {type(exc).__name__}: {str(exc)[:200]}"
        result.duration_ms = int((time.monotonic() - started) * 1000)
        if not result.ok:
            _log_failure(result, batch, source)
        else:
            logger.info("sync_wagers: %s", result.summary())
        _count(result)
        return result
    finally:
        _lock_release(token)


def _count(result: SyncResult) -> None:
    metrics.SYNCS.labels("ok" if result.ok else "failed").inc()
    metrics.SYNC_DURATION.observe(result.duration_ms / 1000)
    for kind in ("received", "created", "updated", "unchanged", "rejected"):
        metrics.SYNC_ROWS.labels(kind).inc(getattr(result, kind) or 0)


def transformation_logs_resolve(log_ids: list[int], *, actor, source: str = AuditEntry.Source.SERVICE) -> int:
    """Operators acknowledge failed or warning syncs; one audit entry names how many."""
    with transaction.atomic():
        count = TransformationLog.objects.filter(pk__in=log_ids, resolved=False).update(resolved=True)
        audit_record(actor=actor, action="transformationlog.resolve", after={"count": count}, source=source)
    return count


def wager_day_record(at: datetime, wagered: Decimal, active_players: int) -> WagerDay:
    """Keep the day's figures for the history charts: the highest seen that UTC day (the feed's today counter
    only grows until midnight; a late or partial answer never lowers the day)."""
    day = at.astimezone(UTC).date()
    row, created = WagerDay.objects.get_or_create(
        date=day, defaults={"wagered": wagered, "active_players": active_players, "updated_at": at}
    )
    if not created and (wagered > row.wagered or active_players > row.active_players):
        row.wagered, row.active_players = max(row.wagered, wagered), max(row.active_players, active_players)
        row.updated_at = at
        row.save(update_fields=["wagered", "active_players", "updated_at"])
    return row


# --- status, for the back office ------------------------------------------------------------------------------


@dataclass
class FeedStatus:
    source: str  # "affiliate" or "demo"
    url: str
    last_success: TransformationLog | None
    last_failure: TransformationLog | None
    token_set: bool
    token_expires_at: datetime | None
    running: bool
    # Where the token comes from: "admin" (stored, encrypted), "environment", "unreadable" or "none".
    token_origin: str = "environment"  # noqa: S105 (a label, not a secret)
    token_fingerprint: str = ""

    @property
    def token_warning(self) -> str:
        """ "", "amber" (under 24 h left) or "red" (under 2 h, or expired)."""
        return token_warning_level(self.token_expires_at)

    @property
    def token_expired(self) -> bool:
        return bool(self.token_expires_at and self.token_expires_at <= timezone.now())

    @property
    def failing(self) -> bool:
        """The latest sync attempt failed (a later success clears it)."""
        if self.last_failure is None:
            return False
        return self.last_success is None or self.last_failure.created_at > self.last_success.created_at


def feed_status() -> FeedStatus:
    syncs = TransformationLog.objects.filter(payload__kind="sync").order_by("-created_at")
    current = feed_token_current()
    return FeedStatus(
        source="affiliate" if settings.AFFILIATE_API_URL else "demo",
        url=settings.AFFILIATE_API_URL,
        last_success=syncs.filter(payload__ok=True).first(),
        last_failure=syncs.filter(payload__ok=False).first(),
        token_set=bool(current.token),
        token_expires_at=current.expires_at,
        token_origin=current.source,
        token_fingerprint=current.credential.fingerprint if current.credential else "",
        running=sync_running(),
    )
