"""The restore drill (docs/operations.md, "Backups"): a scratch PostgreSQL database is migrated and seeded, backed up
with `manage.py backup` and restored with `manage.py restore` into a fresh database, as `make backup` and `make
restore` run them; the restored counts and money checksums match the manifest, and a tampered manifest, a changed
money row, a damaged file or a non-empty target fail.

The drill runs in both suites: on the PostgreSQL run on the server of its test database, on the SQLite run on the
PostgreSQL at BACKUP_DRILL_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres; `make services`
starts it). PostgreSQL is a requirement of the suite, like nginx and Redis, never a reason to skip. Its scratch
databases are named bk_drill_<hex> and dropped at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from goatedvips.backup import MONEY_MODELS, backup_verify, database_from_url, manifest_load, money_tables

# The drill's setup migrates a database and restores it twice: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.timeout(600), pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def _server_url() -> str:
    """The PostgreSQL server the drill makes its databases on (ending in the maintenance database's name)."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/postgres"
    return os.environ.get("BACKUP_DRILL_POSTGRES_URL", DEFAULT_SERVER)


def _url(name: str) -> str:
    return _server_url().rsplit("/", 1)[0] + "/" + name


def _admin() -> psycopg.Connection:
    return psycopg.connect(_server_url(), autocommit=True, connect_timeout=10)


def _manage(*args: str, database: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "DATABASE_REPLICA_URL", "READ_REPLICA", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)  # tasks run in-process; no replica
    env["DATABASE_URL"] = _url(database) if database else "sqlite:///" + str(ROOT / "var" / "drill-unused.sqlite3")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


class Drill:
    """The drill's scratch databases on the server, all dropped at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def name(self) -> str:
        name = f"bk_drill_{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def exists(self, name: str) -> bool:
        with _admin() as admin:
            return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def drop_all(self) -> None:
        with _admin() as admin:
            for name in self.names:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """A migrated, seeded source database (tests/deploy/backup_seed.py), its backup, and a
    restore of it into a fresh database: (drill, source name, dump path, restored name, restore's process)."""
    drill = Drill()
    source = drill.name()
    try:
        with _admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source)))
        for step in (["migrate", "--noinput"], ["shell", "-c", "from tests.deploy.backup_seed import seed; seed()"]):
            done = _manage(*step, database=source)
            assert done.returncode == 0, f"{step}: {done.stderr[-2000:]}"
        out = tmp_path_factory.mktemp("backups")
        backup = _manage("backup", "--output-dir", str(out), database=source)
        assert backup.returncode == 0, backup.stderr
        (dump,) = out.glob("goatedvips-*.dump")
        restored = drill.name()
        restore = _manage("restore", str(dump), "--target", _url(restored), database=source)
        yield drill, source, dump, restored, restore
    finally:
        drill.drop_all()


def _counts(name: str) -> dict[str, int]:
    with psycopg.connect(_url(name), connect_timeout=10) as conn:
        # Every table once: a partitioned table (races.0013) counts its partitions' rows, which are not listed apart.
        listed = ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname ="
                  " 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")  # fmt: skip
        tables = [t for (t,) in conn.execute(listed)]
        count = sql.SQL("SELECT count(*) FROM {}")
        return {t: conn.execute(count.format(sql.Identifier(t))).fetchone()[0] for t in tables}


def test_the_backup_writes_a_dump_and_a_manifest_of_every_table(drill):
    _, source, dump, _, _ = drill
    manifest = manifest_load(dump)
    assert manifest["tables"] == _counts(source)
    assert manifest["dump"]["file"] == dump.name
    assert manifest["dump"]["bytes"] == dump.stat().st_size
    assert not list(dump.parent.glob("*.partial"))


def test_every_money_table_is_checksummed_and_the_drill_seeds_each_one(drill):
    _, _, dump, _, _ = drill
    manifest = manifest_load(dump)
    assert len(money_tables()) == len(MONEY_MODELS)
    assert sorted(manifest["money"]["tables"]) == money_tables()
    assert [t for t in money_tables() if manifest["tables"][t] == 0] == []  # the checksums cover real rows


def test_the_restore_into_a_fresh_database_matches_the_manifest(drill):
    _, source, dump, restored, restore = drill
    assert restore.returncode == 0, restore.stderr
    assert f"{restored} matches the manifest" in restore.stdout
    assert "restore: 100%" in restore.stdout  # progress is reported
    assert _counts(restored) == _counts(source)
    assert backup_verify(manifest_load(dump), database_from_url(_url(restored)), lambda line: None) == []


def test_a_changed_money_row_fails_the_verification(drill):
    _, _, dump, restored, _ = drill
    with psycopg.connect(_url(restored)) as conn:
        conn.execute("UPDATE races_raceresult SET prize = prize + 0.01 WHERE rank = 2")
    try:
        problems = backup_verify(manifest_load(dump), database_from_url(_url(restored)), lambda line: None)
        assert len(problems) == 1
        assert problems[0].startswith("races_raceresult: checksum ")
    finally:
        with psycopg.connect(_url(restored)) as conn:
            conn.execute("UPDATE races_raceresult SET prize = prize - 0.01 WHERE rank = 2")


def test_a_tampered_manifest_fails_the_restore_with_a_non_zero_exit(drill, tmp_path):
    drill_dbs, source, dump, _, _ = drill
    copy = tmp_path / dump.name
    shutil.copy(dump, copy)
    manifest = manifest_load(dump)
    manifest["money"]["tables"]["payouts_payout"] = "0" * 64
    manifest["tables"]["races_player"] += 1
    copy.with_suffix(".json").write_text(json.dumps(manifest))
    target = drill_dbs.name()
    done = _manage("restore", str(copy), "--target", _url(target), database=source)
    assert done.returncode != 0
    assert "MISMATCH payouts_payout: checksum 0000" in done.stderr
    assert "MISMATCH races_player: " in done.stderr
    assert "does not match the manifest (2 differences)" in done.stderr


def test_a_damaged_dump_is_refused_before_anything_is_restored(drill, tmp_path):
    drill_dbs, source, dump, _, _ = drill
    copy = tmp_path / dump.name
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    shutil.copy(dump.with_suffix(".json"), copy.with_suffix(".json"))
    target = drill_dbs.name()
    done = _manage("restore", str(copy), "--target", _url(target), database=source)
    assert done.returncode != 0
    assert "does not match its manifest's sha256" in done.stderr
    assert not drill_dbs.exists(target)


def test_a_restore_refuses_a_database_that_is_not_empty(drill):
    _, source, dump, _, _ = drill
    before = _counts(source)
    done = _manage("restore", str(dump), "--target", _url(source), database=source)
    assert done.returncode != 0
    assert f"the database {source} is not empty" in done.stderr
    assert "--replace" in done.stderr
    assert _counts(source) == before


def test_a_backup_without_its_manifest_is_refused(drill, tmp_path):
    _, source, dump, _, _ = drill
    copy = tmp_path / dump.name
    shutil.copy(dump, copy)
    done = _manage("restore", str(copy), "--target", _url("bk_drill_never_made"), database=source)
    assert done.returncode != 0
    assert "no manifest beside the backup" in done.stderr


def test_backup_and_restore_need_postgresql(tmp_path):
    with pytest.raises(CommandError, match="backups need PostgreSQL, and this database is sqlite3"):
        call_command("backup", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", output_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CommandError, match="no such backup"):
        call_command("restore", str(tmp_path / "missing.dump"), target=_url("bk_drill_never_made"))
