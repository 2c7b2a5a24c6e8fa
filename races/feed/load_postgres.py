"""Writing a feed batch on PostgreSQL: COPY into a temporary table, one merge statement, then the ranks; a first
load into an empty table goes straight in (docs/performance.md, "The sync, as written", says why each step is
shaped so). Runs inside the sync's transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import OperationalError, connection, transaction

from races.feed.client import FeedRow
from races.feed.ranks import player_ranks_recompute, sql_tuple

_PG_TEMP = """
CREATE TEMPORARY TABLE sync_feed_rows (
    uid varchar(64) NOT NULL, name varchar(64) NOT NULL,
    wager_today numeric(24, 8) NOT NULL, wager_week numeric(24, 8) NOT NULL,
    wager_month numeric(24, 8) NOT NULL, wager_all_time numeric(24, 8) NOT NULL
) ON COMMIT DROP
"""


_DATA = ("name", "wager_today", "wager_week", "wager_month", "wager_all_time")


# One statement merges the feed over the table and writes only players whose data differ (each at most once per
# sync, none when nothing moved); the ranks follow in their own narrow table (_RANK_SQL), so a rank that moved
# never rewrites a player row. Counts come from the merge.
_PG_UPSERT = f"""
WITH merged AS (
    SELECT f.uid, f.name, f.wager_today, f.wager_week, f.wager_month, f.wager_all_time,
           COALESCE(p.first_seen, %(now)s) AS first_seen,
           (p.id IS NULL) AS is_new,
           (p.id IS NOT NULL AND {sql_tuple("p", _DATA)} IS DISTINCT FROM {sql_tuple("f", _DATA)}) AS changed
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


# COPY's text format, written here rather than value by value through psycopg's write_row (cheaper: a feed row's
# values are already checked). Backslash, tab, newline and carriage return are the only characters the format
# escapes (validated names hold none of the last three; the escape is kept for safety).
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
# once per inserted rank row. The constraint indexes (id, uid) stay.
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
    # No ANALYZE here: what follows reads the whole table whatever the statistics say, and autovacuum analyzes a
    # table that grew from nothing within its next round.
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


def feed_rows_write_postgres(rows: list[FeedRow], now: datetime) -> tuple[int, int, int]:
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
        # The merge hashes one table by uid: the planner needs the row count and uid's statistics, no other column's.
        cursor.execute("ANALYZE sync_feed_rows (uid)")
        cursor.execute(_PG_UPSERT, {"now": now})
        created, updated, written = cursor.fetchone()
        cursor.execute("DROP TABLE sync_feed_rows")
    return created, updated, written + player_ranks_recompute()
