"""PostgreSQL native partitioning by month (docs/scaling.md, "Partitioning"): the tables that only grow with time
(transformation logs, race progress samples) are RANGE-partitioned on a timestamp, one partition per UTC month
plus a DEFAULT partition that catches any row no month holds. Other databases keep plain tables: nothing here
runs there (callers check `connection.vendor`).

The keys. A partitioned table's primary key must contain its partition column, so in the database the key is
(id, <column>), while Django keeps `id` as the model's pk (no model change, no migration state change). `id` stays
unique because every row takes it from the table's one sequence (owned by the column, so `pg_get_serial_sequence`,
`sqlsequencereset` and TRUNCATE ... RESTART IDENTITY keep working); nothing checks it across partitions, so code
must never insert an explicit id. A lookup by id alone reads every partition's key index (one probe each).

Moving rows out: a month past its retention age is copied to a gzip'd CSV file (COPY ... TO STDOUT, written to
`<file>.partial`, fsync'd, renamed), then detached and dropped in the same transaction: a failure anywhere leaves
the partition in place, and the next run writes the file again. Single rows leave the same way (appended, one
gzip member per batch, before they are deleted). Reading one back: into a scratch table (`CREATE TABLE
old_logs (LIKE <table>)`, then `gunzip -c FILE | psql -c "COPY old_logs FROM STDIN WITH (FORMAT csv, HEADER)"`):
copied into the table itself, rows past their age would go to the archive again the next night.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction

Log = Callable[[str], None]
MONTHS_AHEAD = 3  # partitions made ahead of time: a month of missed nightly runs still finds its partition ready
LOCK_TIMEOUT = "5s"  # DETACH waits for every reader of the table; queries queue behind it, so never wait long


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime  # inclusive, UTC month start
    end: datetime  # exclusive


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def months_after(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _ts(moment: datetime) -> str:
    return f"'{moment.astimezone(UTC).isoformat()}'::timestamptz"  # built from datetimes only, never from input


def partitioned_tables() -> dict[str, str]:
    """{table: partition column} of this schema's RANGE-partitioned tables; empty off PostgreSQL."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]"
            " WHERE n.nspname = current_schema() AND p.partstrat = 'r' ORDER BY 1"
        )
        return dict(cursor.fetchall())


def partitions_of(table: str) -> list[Partition]:
    """The monthly partitions of `table` (ours are named <table>_pYYYYMM), oldest first; not the DEFAULT one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT' ORDER BY 1",
            [table],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = []
    for name in names:
        if not re.fullmatch(rf"{re.escape(table)}_p\d{{6}}", name):
            continue  # a partition someone attached by hand: not ours to archive
        month = datetime.strptime(name.removeprefix(f"{table}_p"), "%Y%m").replace(tzinfo=UTC)
        found.append(Partition(name, month, months_after(month, 1)))
    return found


def default_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_q(default_name(table))}")
        return cursor.fetchone()[0]


def _months_in_default(cursor, table: str, column: str) -> list[datetime]:
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE 'UTC') FROM {_q(default_name(table))}"
    )
    return sorted(month.replace(tzinfo=UTC) for (month,) in cursor.fetchall())


def partition_create(cursor, table: str, column: str, month: datetime) -> int:
    """Add the partition of `month`; rows of that month waiting in the DEFAULT partition move into it (PostgreSQL
    refuses a new partition whose rows sit in the DEFAULT one). Returns the rows moved. Run inside a transaction."""
    name, default = partition_name(table, month), default_name(table)
    bounds = f"FOR VALUES FROM ({_ts(month)}) TO ({_ts(months_after(month, 1))})"
    in_month = f"{_q(column)} >= {_ts(month)} AND {_q(column)} < {_ts(months_after(month, 1))}"
    cursor.execute(f"SELECT count(*) FROM {_q(default)} WHERE {in_month}")
    (waiting,) = cursor.fetchone()
    if not waiting:
        cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} {bounds}")
        return 0
    cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(default)}")
    cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} {bounds}")
    cursor.execute(f"INSERT INTO {_q(name)} SELECT * FROM {_q(default)} WHERE {in_month}")
    cursor.execute(f"DELETE FROM {_q(default)} WHERE {in_month}")
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(default)} DEFAULT")
    return waiting


def partitions_ensure(*, now: datetime, months_ahead: int, log: Log) -> list[str]:
    """Every partitioned table gets the partitions of this month and the next `months_ahead`, and of any month
    whose rows wait in its DEFAULT partition. Safe to run any number of times; returns the partitions made."""
    made: list[str] = []
    for table, column in partitioned_tables().items():
        have = {p.start for p in partitions_of(table)}
        current = month_start(now)
        with transaction.atomic(), connection.cursor() as cursor:
            wanted = {months_after(current, n) for n in range(months_ahead + 1)}
            wanted |= set(_months_in_default(cursor, table, column))
        for month in sorted(wanted - have):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                moved = partition_create(cursor, table, column, month)
            made.append(partition_name(table, month))
            log(f"partitions: {partition_name(table, month)} created" + (f", {moved} row(s) moved in" if moved else ""))
    return made


def _copy_out(cursor, query: str, target: Path, *, header: bool, append: bool) -> None:
    """COPY (query) TO a gzip'd CSV: a new file is written beside it and renamed; an appended batch is one more
    gzip member (gunzip reads them all), fsync'd before the caller deletes the rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target if append else target.with_name(target.name + ".partial")
    options = "FORMAT csv, HEADER" if header else "FORMAT csv"
    with (
        open(path, "ab" if append else "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb") as out,
        cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH ({options})") as copy,
    ):
        for data in copy:
            out.write(data)
    with open(path, "rb") as written:
        os.fsync(written.fileno())
    if not append:
        path.replace(target)


def _unused(folder: Path, stem: str) -> Path:
    """`<stem>.csv.gz`, or `<stem>-2.csv.gz`... when a month comes back (rows that arrived late) and goes again."""
    target, n = folder / f"{stem}.csv.gz", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.csv.gz"
    return target


def partition_archive(table: str, part: Partition, archive_dir: Path, qualifying: Callable[[], int], log: Log) -> int:
    """Copy a whole partition to `<archive_dir>/<table>/<partition>.csv.gz`, then detach and drop it, if every
    row in it is past its age (`qualifying()` counts those, inside the lock); else leave it. Returns rows gone."""
    target = _unused(archive_dir / table, part.name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"LOCK TABLE {_q(part.name)} IN SHARE MODE")  # no writes into it until it is gone
        cursor.execute(f"SELECT count(*) FROM {_q(part.name)}")
        (rows,) = cursor.fetchone()
        kept = rows - qualifying()
        if kept:
            log(f"partitions: {part.name} kept: {kept} of {rows} row(s) not past their age")
            return 0
        if rows:
            _copy_out(cursor, f"SELECT * FROM {_q(part.name)} ORDER BY 1", target, header=True, append=False)
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(part.name)}")
        cursor.execute(f"DROP TABLE {_q(part.name)}")
    log(
        f"partitions: {part.name} archived ({rows} row(s) → {target}), dropped"
        if rows
        else f"partitions: {part.name} dropped (empty)"
    )
    return rows


def rows_archive(table: str, ids: list[int], archive_dir: Path, today: datetime) -> Path:
    """Append the rows `ids` of `table` to the day's `<archive_dir>/<table>/<table>_rows_<YYYYMMDD>.csv.gz`
    (the caller deletes them afterwards, in the same transaction)."""
    target = archive_dir / table / f"{table}_rows_{today:%Y%m%d}.csv.gz"
    listed = ",".join(str(int(pk)) for pk in ids)
    with connection.cursor() as cursor:
        query = f"SELECT * FROM {_q(table)} WHERE id IN ({listed}) ORDER BY id"
        _copy_out(cursor, query, target, header=not target.exists(), append=True)
    return target


# --- Converting a plain table (migrations) ----------------------------------------------------------------------


def _definitions(cursor, table: str) -> tuple[list[str], list[str]]:
    """The statements that re-create `table`'s constraints (not its primary key) and its other indexes by name."""
    cursor.execute("SELECT conname FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'", [table])
    if incoming := [name for (name,) in cursor.fetchall()]:
        raise RuntimeError(f"{table} is referenced by {incoming}: a partitioned table cannot be (by id alone)")
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('c', 'f', 'u', 'x') ORDER BY conname",
        [table],
    )
    constraints = [f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {body}" for name, body in cursor.fetchall()]
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    # A partitioned table's own definition reads "ON ONLY": re-created that way it would skip the partitions.
    indexes = [sql.replace(" ON ONLY ", " ON ", 1) for (sql,) in cursor.fetchall()]
    return constraints, indexes


def _next_id(cursor, table: str) -> int:
    """The id the table's sequence would hand out next (never one a deleted row had)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM {sequence}")
    (after_sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {_q(table)}")
    return max(after_sequence, cursor.fetchone()[0])


def _swap(cursor, table: str, staged: str) -> tuple[list[str], int]:
    """Copy `table` into `staged`, drop it, and give `staged` its name; returns its constraints/indexes and next id."""
    cursor.execute(f"INSERT INTO {_q(staged)} SELECT * FROM {_q(table)}")
    constraints, indexes = _definitions(cursor, table)
    next_id = _next_id(cursor, table)
    cursor.execute(f"DROP TABLE {_q(table)}")
    cursor.execute(f"ALTER TABLE {_q(staged)} RENAME TO {_q(table)}")
    return constraints + indexes, next_id


def table_partition(schema_editor, table: str, column: str, *, months_ahead: int, now: datetime) -> None:
    """Turn the plain `table` into one RANGE-partitioned by month on `column`, keeping every row, its ids, the
    constraint and index names Django knows; partitions for each month with rows up to `months_ahead` from now."""
    cursor = schema_editor.connection.cursor()
    staged = f"{table}_staged"
    cursor.execute(f"CREATE TABLE {_q(staged)} (LIKE {_q(table)} INCLUDING DEFAULTS) PARTITION BY RANGE ({_q(column)})")
    cursor.execute(f"SELECT min({_q(column)}) FROM {_q(table)}")
    first = month_start(min(cursor.fetchone()[0] or now, now))
    month, last = first, months_after(month_start(now), months_ahead)
    while month <= last:
        bounds = f"FOR VALUES FROM ({_ts(month)}) TO ({_ts(months_after(month, 1))})"
        cursor.execute(f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(staged)} {bounds}")
        month = months_after(month, 1)
    cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(staged)} DEFAULT")
    statements, next_id = _swap(cursor, table, staged)
    sequence = f"{table}_id_seq"
    cursor.execute(f"CREATE SEQUENCE {_q(sequence)} AS bigint OWNED BY {_q(table)}.id")
    cursor.execute("SELECT setval(%s, %s, false)", [sequence, next_id])
    cursor.execute(f"ALTER TABLE {_q(table)} ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")
    cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id, {_q(column)})")
    for statement in statements:
        cursor.execute(statement)
    cursor.execute(f"ANALYZE {_q(table)}")


def table_unpartition(schema_editor, table: str) -> None:
    """The way back: one plain table with `id` as its identity primary key, every row and id kept."""
    cursor = schema_editor.connection.cursor()
    staged = f"{table}_staged"
    cursor.execute(f"CREATE TABLE {_q(staged)} (LIKE {_q(table)} INCLUDING DEFAULTS)")
    cursor.execute(f"ALTER TABLE {_q(staged)} ALTER COLUMN id DROP DEFAULT")  # it names the sequence that goes
    statements, next_id = _swap(cursor, table, staged)
    cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id)")
    cursor.execute(
        f"ALTER TABLE {_q(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
        f" (SEQUENCE NAME {_q(table + '_id_seq')} START WITH {int(next_id)})"
    )
    for statement in statements:
        cursor.execute(statement)
