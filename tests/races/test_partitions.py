"""Month partitions on PostgreSQL (core.partitions, races migration 0013, `manage.py partitions`, docs/scaling.md):
the migration turns the logs and progress samples into RANGE-partitioned tables keeping every row and id, the ORM
and the retention job keep working on them, the command makes the months ahead once and moves rows waiting in the
DEFAULT partition, and months past their age leave as gzip'd CSV files before they are dropped.

Runs in both suites like the restore drill (tests/deploy/test_backup.py): on the PostgreSQL run on the server of its
test database, on the SQLite run on the PostgreSQL at BACKUP_DRILL_POSTGRES_URL (`make services` starts it).
PostgreSQL is a requirement of the suite, never a reason to skip. Its scratch database (pt_<hex>) is migrated to
races 0012, seeded, migrated to the end, and dropped at the end."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from core.partitions import month_start, months_after, partition_name

pytestmark = [pytest.mark.timeout(600), pytest.mark.postgres]  # a full migrate, twice, on a loaded 2-core machine
ROOT = Path(__file__).resolve().parents[2]
LOGS, SAMPLES = "races_transformationlog", "races_raceprogresssample"

SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from races.models import RaceProgressSample, TransformationLog
from tests.factories import WagerRaceFactory
now = timezone.now()
for days in (400, 130, 40, 1):
    TransformationLog.objects.create(message=f"log {days}", created_at=now - timedelta(days=days))
TransformationLog.objects.filter(message="log 1").delete()  # the sequence is now ahead of max(id)
done = WagerRaceFactory(status="completed", start_date=now - timedelta(days=400), end_date=now - timedelta(days=370))
live = WagerRaceFactory(status="live", start_date=now - timedelta(days=400), end_date=now + timedelta(days=1))
for race in (done, live):
    RaceProgressSample.objects.create(race=race, taken_at=now - timedelta(days=380), standings=[[race.title, 1]])
print(json.dumps({"logs": dict(TransformationLog.objects.values_list("id", "message")),
                  "samples": dict(RaceProgressSample.objects.values_list("id", "race__status"))}))
"""

ORM = """
import json
from django.db import IntegrityError, transaction
from races.models import RaceProgressSample, TransformationLog, WagerRace
log = TransformationLog.objects.create(message="new")
log.message = "changed"
log.save()
changed = TransformationLog.objects.get(pk=log.pk).message
sample = RaceProgressSample.objects.filter(race__status="live").first()
try:
    with transaction.atomic():
        RaceProgressSample.objects.create(race=sample.race, taken_at=sample.taken_at, standings=[])
    duplicate = "accepted"
except IntegrityError:
    duplicate = "refused"
deleted, _ = TransformationLog.objects.filter(pk=log.pk).delete()
print(json.dumps({"id": log.pk, "changed": changed, "duplicate": duplicate, "deleted": deleted}))
"""


def _server_url() -> str:
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/postgres"
    return os.environ.get("BACKUP_DRILL_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _url(name: str) -> str:
    return _server_url().rsplit("/", 1)[0] + "/" + name


def _manage(database: str, archive: Path, *args: str) -> str:
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING", "DATABASE_URL": _url(database)}
    env["RETENTION_ARCHIVE_DIR"] = str(archive)
    for name in ("REDIS_URL", "DATABASE_REPLICA_URL", "READ_REPLICA", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)  # tasks run in-process; no replica
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done.stdout


def _rows(database: str, query: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(_url(database), connect_timeout=10) as conn:
        return conn.execute(query, params).fetchall()


def _partitions(database: str, table: str) -> list[str]:
    query = "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass"
    return sorted(name for (name,) in _rows(database, query, [table]))


def _key(database: str, table: str) -> list[str]:
    query = (
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"
    )
    return [name for (name,) in _rows(database, query, [table])]


def _kind(database: str, table: str) -> str:
    return _rows(database, "SELECT relkind::text FROM pg_class WHERE oid = %s::regclass", [table])[0][0]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """(database, archive dir, seeded rows): migrated to races 0012, seeded with the ORM, migrated to the end."""
    name, archive = f"pt_{uuid.uuid4().hex[:12]}", tmp_path_factory.mktemp("archive")
    with psycopg.connect(_server_url(), autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _manage(name, archive, "migrate", "races", "0012", "--noinput")
        seeded = json.loads(_manage(name, archive, "shell", "-c", SEED).strip().splitlines()[-1])
        _manage(name, archive, "migrate", "--noinput")
        yield name, archive, seeded
    finally:
        with psycopg.connect(_server_url(), autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_migration_partitions_both_tables_by_month_keeping_every_row_and_id(scratch):
    database, _, seeded = scratch
    assert (_kind(database, LOGS), _kind(database, SAMPLES)) == ("p", "p")
    assert _key(database, LOGS) == ["id", "created_at"]
    assert _key(database, SAMPLES) == ["id", "taken_at"]
    assert dict(_rows(database, f"SELECT id::text, message FROM {LOGS}")) == seeded["logs"]  # noqa: S608
    assert {str(pk) for (pk,) in _rows(database, f"SELECT id FROM {SAMPLES}")} == set(seeded["samples"])  # noqa: S608
    now = datetime.now(UTC)
    wanted = {partition_name(LOGS, month_start(now - timedelta(days=days))) for days in (400, 130, 40)}
    wanted |= {partition_name(LOGS, months_after(month_start(now), n)) for n in range(4)}
    assert wanted | {f"{LOGS}_default"} <= set(_partitions(database, LOGS))
    assert f"{SAMPLES}_default" in _partitions(database, SAMPLES)
    assert not _rows(database, f"SELECT 1 FROM {LOGS}_default UNION ALL SELECT 1 FROM {SAMPLES}_default")  # noqa: S608
    named = "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass"
    constraints = {name for (name,) in _rows(database, named, [SAMPLES])}
    assert "progress_race_taken_at_unique" in constraints
    assert any(name.endswith("_fk_races_wagerrace_id") for name in constraints)


def test_the_orm_inserts_updates_and_deletes_and_an_id_is_never_handed_out_twice(scratch):
    database, archive, seeded = scratch
    done = json.loads(_manage(database, archive, "shell", "-c", ORM).strip().splitlines()[-1])
    # The seed deleted its newest log: the sequence went on from there, not from max(id).
    assert done["id"] == max(int(pk) for pk in seeded["logs"]) + 2
    assert (done["changed"], done["duplicate"], done["deleted"]) == ("changed", "refused", 1)


def test_the_way_back_is_a_plain_table_with_the_same_rows_and_forth_again(scratch):
    database, archive, seeded = scratch
    _manage(database, archive, "migrate", "races", "0012", "--noinput")
    assert (_kind(database, LOGS), _key(database, LOGS)) == ("r", ["id"])
    identity = "SELECT attidentity::text FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'id'"
    assert _rows(database, identity, [LOGS]) == [("d",)]  # GENERATED BY DEFAULT AS IDENTITY, as Django made it
    assert dict(_rows(database, f"SELECT id::text, message FROM {LOGS}")) == seeded["logs"]  # noqa: S608
    _manage(database, archive, "migrate", "races", "--noinput")
    assert (_kind(database, LOGS), _key(database, LOGS)) == ("p", ["id", "created_at"])
    assert dict(_rows(database, f"SELECT id::text, message FROM {LOGS}")) == seeded["logs"]  # noqa: S608


def test_the_command_makes_the_months_ahead_once_and_moves_rows_out_of_the_default_partition(scratch):
    database, archive, _ = scratch
    later = months_after(month_start(datetime.now(UTC)), 8)
    with psycopg.connect(_url(database)) as conn:
        columns = "type, message, payload, duration_ms, resolved, error_message, created_at"
        values = "'info', 'from the future', '{}', 0, false, '', %s"
        conn.execute(f"INSERT INTO {LOGS} ({columns}) VALUES ({values})", [later + timedelta(days=3)])  # noqa: S608
    out = _manage(database, archive, "partitions", "--no-archive", "--months", "4")
    assert f"partitions: {partition_name(LOGS, later)} created, 1 row(s) moved in" in out
    assert f"partitions: {partition_name(SAMPLES, months_after(month_start(datetime.now(UTC)), 4))} created" in out
    assert f"{LOGS}: " in out
    assert "DEFAULT holds 0 row(s)" in out
    assert _rows(database, f"SELECT message FROM {partition_name(LOGS, later)}") == [("from the future",)]  # noqa: S608
    again = _manage(database, archive, "partitions", "--no-archive", "--months", "4")
    assert "Partitions: 0 created, 0 row(s) archived." in again


def _archived(path: Path) -> list[dict]:
    with gzip.open(path, "rt", newline="") as text:
        return list(csv.DictReader(io.StringIO(text.read())))


def test_months_past_their_age_leave_as_files_and_a_month_with_a_live_race_stays(scratch):
    database, archive, _ = scratch
    now = datetime.now(UTC)
    gone = [partition_name(LOGS, month_start(now - timedelta(days=days))) for days in (400, 130)]
    samples_month = partition_name(SAMPLES, month_start(now - timedelta(days=380)))
    out = _manage(database, archive, "partitions")
    for name in gone:
        assert f"partitions: {name} archived (1 row(s) → {archive / LOGS / name}.csv.gz), dropped" in out
        assert name not in _partitions(database, LOGS)
    assert [row["message"] for name in gone for row in _archived(archive / LOGS / f"{name}.csv.gz")] == [
        "log 400",
        "log 130",
    ]
    assert f"partitions: {samples_month} kept: 1 of 2 row(s) not past their age" in out
    assert {m for (m,) in _rows(database, f"SELECT message FROM {LOGS}")} >= {"log 40"}  # noqa: S608
    assert "Partitions: 0 created, 2 row(s) archived." in out


def test_retention_copies_single_rows_to_the_days_file_before_deleting_them(scratch):
    database, archive, seeded = scratch
    out = _manage(database, archive, "prune_data")
    assert "progress samples of finished races: deleted 1" in out
    (rows_file,) = (archive / SAMPLES).glob(f"{SAMPLES}_rows_*.csv.gz")
    (archived,) = _archived(rows_file)
    assert seeded["samples"][archived["id"]] == "completed"
    left = _rows(database, f"SELECT r.status FROM {SAMPLES} s JOIN races_wagerrace r ON r.id = s.race_id")  # noqa: S608
    assert left == [("live",)]


def test_the_nightly_retention_task_makes_a_missing_month_again(scratch):
    database, archive, _ = scratch
    ahead = partition_name(LOGS, months_after(month_start(datetime.now(UTC)), 3))
    with psycopg.connect(_url(database)) as conn:
        conn.execute(f"DROP TABLE {ahead}")
    assert ahead not in _partitions(database, LOGS)
    _manage(database, archive, "shell", "-c", "from goatedvips.tasks import retention_task; retention_task()")
    assert ahead in _partitions(database, LOGS)


def test_the_command_refuses_a_number_of_months_out_of_range():
    with pytest.raises(CommandError, match="--months must be between 0 and 120, not -1"):
        call_command("partitions", months=-1)
