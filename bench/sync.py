"""Feed sync benchmark on PostgreSQL: our sync vs a naive ORM loop vs the raw COPY floor, in one run.

    .venv/bin/python bench/sync.py [--players 50000] [--database-url ...]   (make bench-sync)
    .venv/bin/python bench/sync.py --players 500000 --no-naive               (make bench-sync-large)

A feed of N players is served over local HTTP in the affiliate's format. Each measurement runs in its own process
(fresh interpreter, so peak RSS is that phase's alone) against the same database:

- ours (first):   `sync_wagers()` into an empty Player table: fetch → validate → COPY + upsert → ranks → log →
                  cache refresh, timed until the after-commit work is done.
- ours (repeat):  the same feed again: nothing changed, so nothing may be written.
- ours (10 %):    a feed where one player in ten wagered more.
- naive:          fetch + json + `Player.objects.update_or_create` per row in one transaction, then ranks (the
                  way the original system did it).
- COPY floor:     fetch + json + COPY of the raw rows straight into the empty Player table (same indexes): the
                  least work that lands the feed in the database (no validation, no upsert, no ranks).

Prints seconds, ratios and peak RSS; figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import production  # bench/production.py: the production configuration every bench runs

ROOT = Path(__file__).resolve().parent.parent
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def make_feed(players: int, seed: int, bump: float = 0.0) -> bytes:
    """A feed in the upstream format with bare decimal numbers; `bump` of the players wagered more."""
    rng = random.Random(seed)
    bump_rng = random.Random(seed + 1)
    rows = []
    for i in range(players):
        uid = "".join(rng.choice(ALPHABET) for _ in range(20))
        month = rng.paretovariate(1.2) * 300
        extra = 100.0 if bump and bump_rng.random() < bump else 0.0
        rows.append(
            f'{{"uid":"{uid}","name":"Player{i}","wagered":{{"today":{month * 0.05 + extra:.6f},'
            f'"this_week":{month * 0.3 + extra:.6f},"this_month":{month + extra:.6f},'
            f'"all_time":{month * 12 + extra:.6f}}}}}'
        )
    return ('{"success":true,"data":[' + ",".join(rows) + "]}").encode()


class _Feed(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args):
        pass


# --- phases (run in child processes) -------------------------------------------------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")
    import django

    django.setup()


def phase_ours() -> dict:
    from races.services.sync import sync_wagers

    started = time.perf_counter()
    result = sync_wagers()  # outside any atomic block: returns after commit and after-commit work
    seconds = time.perf_counter() - started
    assert result.ok, result.error
    return {"seconds": seconds, **result.counts()}


def phase_naive() -> dict:
    import httpx
    from django.db import transaction

    from races.feed.ranks import player_ranks_recompute
    from races.models import Player

    started = time.perf_counter()
    data = json.loads(httpx.get(os.environ["AFFILIATE_API_URL"], timeout=60).content)["data"]
    with transaction.atomic():
        for r in data:
            w = r["wagered"]
            Player.objects.update_or_create(
                uid=r["uid"],
                defaults={
                    "name": r["name"],
                    "wager_today": w["today"],
                    "wager_week": w["this_week"],
                    "wager_month": w["this_month"],
                    "wager_all_time": w["all_time"],
                },
            )
        player_ranks_recompute()
    return {"seconds": time.perf_counter() - started, "received": len(data)}


def phase_copy_floor() -> dict:
    import httpx
    from django.db import connection, transaction
    from django.utils import timezone

    started = time.perf_counter()
    data = json.loads(httpx.get(os.environ["AFFILIATE_API_URL"], timeout=60).content)["data"]
    now = timezone.now()
    columns = "uid, name, wager_today, wager_week, wager_month, wager_all_time, first_seen, last_seen, updated_at"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(f"COPY races_player ({columns}) FROM STDIN") as copy,
    ):
        for r in data:
            w = r["wagered"]
            copy.write_row(
                (r["uid"], r["name"], w["today"], w["this_week"], w["this_month"], w["all_time"], now, now, now)
            )
    return {"seconds": time.perf_counter() - started, "received": len(data)}


PHASES = {"ours": phase_ours, "naive": phase_naive, "copy": phase_copy_floor}


def child(phase: str) -> None:
    _setup_django()
    out = PHASES[phase]()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


# --- driver --------------------------------------------------------------------------------------------------


def run_phase(phase: str, env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", phase], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        sys.exit(f"phase {phase} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reset(env: dict) -> None:
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('TRUNCATE races_player, races_transformationlog RESTART IDENTITY CASCADE')\n"
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], env=env, cwd=ROOT, check=True)


def fresh_database(url: str) -> None:
    """A database of this bench's own, empty (no races or players left by other benches)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=50_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/goatedvips_bench_sync")
    parser.add_argument("--fillfactor", type=int, help="set races_player's fillfactor first (migration: 70)")
    parser.add_argument("--no-naive", action="store_true", help="leave out the per-row loop (the large run)")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    print(production.SETTINGS_LINE)
    fresh_database(args.database_url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "AFFILIATE_API_URL": f"http://127.0.0.1:{server.server_address[1]}/feed",
        "AFFILIATE_API_TOKEN": "bench",
        "LOG_LEVEL": "WARNING",
        **production.ENV,
    }
    env.pop("REDIS_URL", None)
    print(f"Migrating {args.database_url} …", flush=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    if args.fillfactor:
        sql = f"ALTER TABLE races_player SET (fillfactor = {int(args.fillfactor)})"
        subprocess.run(["psql", args.database_url.replace("postgres://", "postgresql://"), "-qc", sql], check=True)

    server.body = make_feed(args.players, seed=1)
    print(f"Feed: {args.players:,} players, {len(server.body) / 1e6:.1f} MB of JSON", flush=True)
    # 500,000 players are 77 MB of JSON, over the default cap (64 MiB): an operator with such a feed raises it too.
    env["FEED_MAX_BYTES"] = str(max(64 * 1024 * 1024, 2 * len(server.body)))
    results = {}
    reset(env)
    results["COPY floor"] = run_phase("copy", env)
    reset(env)
    results["ours (first)"] = run_phase("ours", env)
    results["ours (repeat)"] = run_phase("ours", env)
    server.body = make_feed(args.players, seed=1, bump=0.1)
    results["ours (10% changed)"] = run_phase("ours", env)
    server.body = make_feed(args.players, seed=1)
    if not args.no_naive:
        reset(env)
        print("Naive update_or_create loop (slow) …", flush=True)
        results["naive"] = run_phase("naive", env)
    server.shutdown()

    print()
    print(f"{'phase':<22}{'seconds':>10}{'peak RSS MB':>14}  counts")
    for name, r in results.items():
        counts = {k: r[k] for k in ("created", "updated", "unchanged") if k in r}
        print(f"{name:<22}{r['seconds']:>10.2f}{r['peak_rss_mb']:>14.0f}  {counts or ''}")
    first, floor = results["ours (first)"], results["COPY floor"]
    repeat, changed = results["ours (repeat)"], results["ours (10% changed)"]
    peak = max(r["peak_rss_mb"] for name, r in results.items() if name.startswith("ours"))

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    # Targets (issue 31): 50,000 players — first >= 50x the per-row loop, 10 % changed <= 1.2x the COPY floor,
    # RSS <= 200 MB; 500,000 players — first and 10 % changed <= 1.3x the floor, RSS <= 600 MB.
    large = args.players >= 500_000
    ratio_target, rss_target = (1.3, 600) if large else (1.2, 200)
    changed_ratio = changed["seconds"] / floor["seconds"]
    first_ratio = first["seconds"] / floor["seconds"]
    print()
    if "naive" in results:
        speedup = results["naive"]["seconds"] / first["seconds"]
        print(f"naive / ours (first):          {speedup:6.1f}x   (target >= 50x)  {verdict(speedup >= 50)}")
    ok = changed_ratio <= ratio_target
    print(f"ours (10% changed) / COPY:     {changed_ratio:6.2f}x   (target <= {ratio_target}x) {verdict(ok)}")
    first_line = f"{verdict(first_ratio <= ratio_target)} (target <= {ratio_target}x)" if large else ""
    print(f"ours (first) / COPY floor:     {first_ratio:6.2f}x   {first_line}")
    print(f"ours (repeat) / ours (first):  {repeat['seconds'] / first['seconds']:6.2f}")
    print(f"peak RSS of our sync:          {peak:6.0f} MB (target <= {rss_target})  {verdict(peak <= rss_target)}")


if __name__ == "__main__":
    main()
