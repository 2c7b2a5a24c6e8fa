"""Backups that restore (docs/operations.md, "Backups"): `backup_create` writes a pg_dump (custom format) and a
manifest beside it, both from one snapshot: the row count of every table and a SHA-256 of every money table.
`backup_restore` restores a dump into a fresh database and `backup_verify` recomputes the manifest there: a
backup is only as good as the restore that proves it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import environ
import psycopg
from django.apps import apps
from psycopg import sql

# The tables that hold money (owed, paid, won or given away): their rows are checksummed, not only counted. One
# list, by model, so a renamed table follows; tests/deploy/test_backup.py checks every one is in the schema.
MONEY_MODELS = (
    "payouts.Payout",  # what is owed and paid out
    "races.WagerRace",  # prize pools and distributions
    "races.RaceResult",  # prizes won
    "races.HistoricalRace",  # the archived standings with their prizes
    "races.WagerAdjustment",  # wager corrections, which move prizes
    "giveaways.Raffle",  # raffle prize pools
    "giveaways.RaffleWinner",  # raffle prizes won
    "vip.BonusCode",  # bonus amounts
    "vip.BonusCodeClaim",  # who claimed them
    "vip.WheelSpin",  # wheel rewards issued
)
MANIFEST_FORMAT = 1
PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"
PG_RESTORE = shutil.which("pg_restore") or "/usr/bin/pg_restore"
# Settings that change how values print; fixed, so a checksum depends on the data alone, not on the session.
STABLE_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
)

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is the one line an operator reads."""


def database_from_url(url: str) -> dict:
    """Django's database settings for a URL (the same parser as DATABASE_URL's)."""
    return environ.Env.db_url_config(url)


def require_postgres(db: dict) -> None:
    if not db.get("ENGINE", "").startswith("django.db.backends.postgresql"):
        engine = db.get("ENGINE", "?").rsplit(".", 1)[-1]
        raise BackupError(
            f"backups need PostgreSQL, and this database is {engine} ({db.get('NAME')}): "
            "set DATABASE_URL=postgres://user@host:5432/name"
        )


def _libpq_env(db: dict, name: str | None = None) -> dict[str, str]:
    """The connection as libpq's environment variables, so a password never shows in a process list."""
    env = {"PGDATABASE": name or db["NAME"], "PGHOST": db.get("HOST") or "127.0.0.1"}
    env["PGPORT"] = str(db.get("PORT") or 5432)
    if db.get("USER"):
        env["PGUSER"] = db["USER"]
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    if sslmode := (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    return env


def _connect(db: dict, name: str | None = None, autocommit: bool = False) -> psycopg.Connection:
    params = _libpq_env(db, name)
    return psycopg.connect(
        dbname=params["PGDATABASE"], host=params["PGHOST"], port=params["PGPORT"], user=params.get("PGUSER"),
        password=params.get("PGPASSWORD"), sslmode=params.get("PGSSLMODE"), autocommit=autocommit,
        connect_timeout=10,
    )  # fmt: skip


def money_tables() -> list[str]:
    return sorted(apps.get_model(label)._meta.db_table for label in MONEY_MODELS)


def _tables(cur: psycopg.Cursor) -> list[str]:
    # Partitions are counted through their parent table (a restore keeps the same split).
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname"
    )
    return [row[0] for row in cur.fetchall()]


def _order_by(cur: psycopg.Cursor, table: str) -> sql.Composable:
    """The primary key's columns, the stable order of the rows (the whole row as text if there is none)."""
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
        [sql.Identifier(table).as_string(cur)],
    )
    columns = [row[0] for row in cur.fetchall()]
    if not columns:
        return sql.SQL("t::text")
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def table_checksum(cur: psycopg.Cursor, table: str) -> str:
    """SHA-256 of the table's rows in PostgreSQL's COPY text format, in primary-key order."""
    digest = hashlib.sha256()
    query = sql.SQL("COPY (SELECT * FROM {} AS t ORDER BY {}) TO STDOUT").format(
        sql.Identifier(table), _order_by(cur, table)
    )
    with cur.copy(query) as copy:
        for block in copy:
            digest.update(block)
    return digest.hexdigest()


def manifest_compute(conn: psycopg.Connection, say: Say) -> dict:
    """Row counts of every table and checksums of the money tables, read in the connection's transaction."""
    with conn.cursor() as cur:
        for statement in STABLE_SESSION:
            cur.execute(statement)
        tables = _tables(cur)
        counts = {}
        for table in tables:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()[0]
        say(f"  counted the rows of {len(tables)} tables ({sum(counts.values()):,} rows)")
        missing = [t for t in money_tables() if t not in counts]
        if missing:
            raise BackupError(f"money tables missing from the database: {', '.join(missing)} (not migrated?)")
        checksums = {}
        for table in money_tables():
            checksums[table] = table_checksum(cur, table)
            say(f"  checksummed {table} ({counts[table]:,} rows)")
    overall = hashlib.sha256("".join(f"{t}:{checksums[t]}\n" for t in sorted(checksums)).encode()).hexdigest()
    return {"tables": counts, "money": {"tables": checksums, "sha256": overall}}


def manifest_compare(expected: dict, actual: dict) -> list[str]:
    """Every difference between two manifests' counts and checksums, one line each (empty: they match)."""
    problems = []
    want, got = expected["tables"], actual["tables"]
    for table in sorted(set(want) | set(got)):
        if want.get(table) != got.get(table):
            problems.append(f"{table}: {_rows(want.get(table))} in the backup, {_rows(got.get(table))} restored")
    want_money, got_money = expected["money"]["tables"], actual["money"]["tables"]
    for table in sorted(set(want_money) | set(got_money)):
        if want_money.get(table) != got_money.get(table):
            problems.append(f"{table}: checksum {want_money.get(table)} in the backup, {got_money.get(table)} restored")
    if expected["money"]["sha256"] != actual["money"]["sha256"] and not problems:
        want_all, got_all = expected["money"]["sha256"], actual["money"]["sha256"]
        problems.append(f"money checksum {want_all} in the backup, {got_all} restored")
    return problems


def _rows(count: int | None) -> str:
    return "no table" if count is None else f"{count:,} rows"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_suffix(".json")


def _run_with_progress(
    command: list[str], env: dict, say: Say, total: int, what: str, markers: tuple[str, ...]
) -> None:
    """Run pg_dump/pg_restore --verbose, turning its per-item lines (those with one of `markers`) into a
    percentage every tenth."""
    full_env = {**os.environ, **env}
    proc = subprocess.Popen(command, env=full_env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)  # noqa: S603
    tail: list[str] = []
    done, shown = 0, 0
    for line in proc.stderr:
        tail = [*tail[-9:], line.rstrip()]
        if any(marker in line for marker in markers):
            done += 1
            step = min(10, done * 10 // max(total, 1))
            if step > shown:
                shown = step
                say(f"  {what}: {step * 10}% ({done}/{total})")
    if proc.wait() != 0:
        errors = [x for x in tail if "error" in x.lower()] or tail
        raise BackupError(f"{Path(command[0]).name} failed (exit {proc.returncode}): {' | '.join(errors[-3:])}")


def backup_create(db: dict, out_dir: Path, say: Say) -> tuple[Path, Path]:
    """pg_dump of `db` into out_dir/goatedvips-<UTC stamp>.dump with its manifest (.json), both from one snapshot:
    the manifest is computed in the transaction whose snapshot pg_dump imports, so a live site's writes during
    the backup land in neither."""
    require_postgres(db)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump = out_dir / f"goatedvips-{stamp}.dump"
    partial = dump.with_name(dump.name + ".partial")  # a killed backup never looks finished
    with _connect(db) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cur:
            snapshot = cur.execute("SELECT pg_export_snapshot()").fetchone()[0]
            tables = len(_tables(cur))
            server = cur.execute("SHOW server_version").fetchone()[0]
        say(f"dumping {db['NAME']} ({tables} tables) to {dump}")
        command = [PG_DUMP, "--format=custom", "--verbose", f"--snapshot={snapshot}", f"--file={partial}"]
        try:
            _run_with_progress(command, _libpq_env(db), say, tables, "dump", ("dumping contents of table",))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        say("computing the manifest (same snapshot)")
        manifest = manifest_compute(conn, say)
    partial.rename(dump)
    manifest = {
        "format": MANIFEST_FORMAT, "created_at": datetime.now(UTC).isoformat(), "database": db["NAME"],
        "server_version": server, **manifest,
        "dump": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": file_sha256(dump)},
    }  # fmt: skip
    path = manifest_path(dump)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.rename(path)
    return dump, path


def manifest_load(dump: Path) -> dict:
    path = manifest_path(dump)
    if not dump.is_file():
        raise BackupError(f"no such backup: {dump}")
    if not path.is_file():
        raise BackupError(f"no manifest beside the backup ({path}): a backup without one cannot be verified")
    try:
        manifest = json.loads(path.read_text())
        _ = manifest["tables"], manifest["money"]["tables"], manifest["money"]["sha256"], manifest["dump"]["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"the manifest {path} is not readable: {error}") from error
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"the manifest {path} has format {manifest.get('format')}, expected {MANIFEST_FORMAT}")
    return manifest


def _prepare_target(db: dict, replace: bool, say: Say) -> None:
    """Create the target database; an existing one is used only when it holds nothing, or dropped when told."""
    name = db["NAME"]
    with _connect(db, "postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            with _connect(db) as conn:
                relations = conn.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
                ).fetchone()[0]
            if relations and not replace:
                raise BackupError(
                    f"the database {name} is not empty ({relations} relations): restore into a new database, "
                    "or pass --replace (REPLACE=1) to drop and recreate it"
                )
            if relations:
                say(f"dropping the database {name} (--replace)")
                admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
                exists = None
        if not exists:
            say(f"creating the database {name}")
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))


def backup_verify(manifest: dict, db: dict, say: Say) -> list[str]:
    """The differences between the manifest and the database's counts and money checksums (empty: it matches)."""
    with _connect(db) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        actual = manifest_compute(conn, say)
    return manifest_compare(manifest, actual)


def backup_restore(dump: Path, db: dict, say: Say, replace: bool = False, jobs: int = 2) -> list[str]:
    """Restore `dump` into the database `db` (created fresh), then verify it against the manifest; returns the
    differences (empty: the restore is proven)."""
    require_postgres(db)
    manifest = manifest_load(dump)
    say(f"checking {dump.name} against its manifest")
    if file_sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(f"{dump} does not match its manifest's sha256: the file is damaged or not this backup")
    _prepare_target(db, replace, say)
    listing = subprocess.run([PG_RESTORE, "--list", str(dump)], capture_output=True, text=True, check=True)  # noqa: S603
    items = sum(1 for line in listing.stdout.splitlines() if line and not line.startswith(";"))
    say(f"restoring {items} items into {db['NAME']} ({jobs} jobs)")
    command = [PG_RESTORE, "--verbose", "--exit-on-error", "--no-owner", "--no-acl", f"--jobs={jobs}",
               f"--dbname={db['NAME']}", str(dump)]  # fmt: skip
    # One line per item: serially "creating ..."/"processing data"/"executing ...", in parallel the leader's
    # "processing item" and each worker's "finished item".
    markers = (
        (" processing item ", " finished item ") if jobs > 1 else (" creating ", " processing data ", " executing ")
    )
    _run_with_progress(command, _libpq_env(db), say, items, "restore", markers)
    say("verifying row counts and money checksums")
    return backup_verify(manifest, db, say)
