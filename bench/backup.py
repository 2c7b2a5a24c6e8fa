"""Backup and restore of a database with 100,000 players: how long `make backup` and `make restore` take.

    .venv/bin/python bench/backup.py [--players 100000] [--server-url postgres://postgres@127.0.0.1:5432/postgres]
    (make bench-backup)

A scratch database bk_bench_src_<hex> is migrated, N players (with their ranks, as a sync leaves them) and a
finalized race of 1,000 results with their payouts are written with COPY; then `manage.py backup` and `manage.py
restore` run as `make` runs them (production settings, bench/production.py), into a fresh bk_bench_dst_<hex>, and
the restore's verification must pass. Prints the seconds of each step and the dump's size; both scratch
databases and the dump are removed at the end. The figure is recorded in docs/operations.md ("Backups").
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import production  # bench/production.py: the production configuration every bench runs
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def _url(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + name


def _manage(database_url: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, **production.ENV, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "DATABASE_REPLICA_URL", "READ_REPLICA"):
        env.pop(name, None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took, done.stdout


def _seed(url: str, players: int) -> None:
    rng = random.Random(37)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        columns = "uid, name, wager_today, wager_week, wager_month, wager_all_time, first_seen, last_seen, updated_at"
        with cur.copy(f"COPY races_player ({columns}) FROM STDIN") as copy:
            for i in range(players):
                month = Decimal(f"{rng.paretovariate(1.2) * 300:.6f}")
                seen = now - timedelta(days=rng.randrange(400))
                wagers = (month / 20, month / 3, month, month * 12)
                copy.write_row((f"bench{i:015d}", f"Player{i}", *wagers, seen, now, now))
        cur.execute(
            "INSERT INTO races_playerrank (player_id, rank_today, rank_weekly, rank_monthly, rank_all_time) "
            "SELECT id, rank() OVER (ORDER BY wager_today DESC, first_seen, uid), "
            "rank() OVER (ORDER BY wager_week DESC, first_seen, uid), "
            "rank() OVER (ORDER BY wager_month DESC, first_seen, uid), "
            "rank() OVER (ORDER BY wager_all_time DESC, first_seen, uid) FROM races_player"
        )
        race_id = cur.execute(
            "INSERT INTO races_wagerrace (title, type, status, prize_pool, start_date, end_date, min_wager, "
            "prize_distribution, rules, description, recurrence, entry, standings_total, created_at, updated_at) "
            "VALUES ('Bench race', 'monthly', 'completed', 100000, %s, %s, 0, '{}', '', '', 'none', 'open', 1000, "
            "%s, %s) "
            "RETURNING id",
            [now - timedelta(days=30), now, now, now],
        ).fetchone()[0]
        cur.execute(
            "INSERT INTO races_raceresult (race_id, player_id, rank, name, uid, wagered, prize, prize_eligible, "
            "created_at) SELECT %s, p.id, r.rank_all_time, p.name, p.uid, p.wager_month, 10, true, now() "
            "FROM races_player p JOIN races_playerrank r ON r.player_id = p.id WHERE r.rank_all_time <= 1000",
            [race_id],
        )
        cur.execute(
            "INSERT INTO payouts_payout (source, result_id, race_id, player_id, amount, method, destination, status, "
            "reference, note, created_at, updated_at) SELECT 'race', id, race_id, player_id, prize, 'manual', name, "
            "'pending', '', '', now(), now() FROM races_raceresult"
        )
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--server-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(production.SETTINGS_LINE)
    tag = uuid.uuid4().hex[:8]
    source, target = f"bk_bench_src_{tag}", f"bk_bench_dst_{tag}"
    admin = psycopg.connect(args.server_url, autocommit=True)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(source)))
    try:
        took, _ = _manage(_url(args.server_url, source), "migrate", "--noinput")
        print(f"migrate: {took:.1f} s")
        started = time.perf_counter()
        _seed(_url(args.server_url, source), args.players)
        seeded = time.perf_counter() - started
        print(f"seed {args.players:,} players + 1,000 results and payouts (COPY): {seeded:.1f} s")
        with tempfile.TemporaryDirectory() as out:
            backup_s, _ = _manage(_url(args.server_url, source), "backup", "--output-dir", out)
            (dump,) = Path(out).glob("*.dump")
            size = dump.stat().st_size / 1e6
            print(f"backup (pg_dump + manifest): {backup_s:.1f} s, {size:.1f} MB")
            restore_s, output = _manage(_url(args.server_url, source), "restore", str(dump), "--target",
                                        _url(args.server_url, target))  # fmt: skip
        verified = re.search(r"Restored and verified in ([\d.]+) s", output)
        print(f"restore into a fresh database + verification: {restore_s:.1f} s (the command's own figure: "
              f"{verified.group(1)} s)")  # fmt: skip
    finally:
        for name in (source, target):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


if __name__ == "__main__":
    main()
