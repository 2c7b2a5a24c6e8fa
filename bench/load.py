"""Load test: simulated users browsing the site and holding live sockets, against the scaled topology.

    .venv/bin/python bench/load.py --start-topology [--users 200] [--seconds 60]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000          # a topology already running

Each simulated user loops for the duration: a weighted mix of pages and API calls (home, leaderboard, race
page, player page, leaderboard and race API) with 0.5-2 s of "reading" between them, as people do. A quarter of
the users also hold a live leaderboard socket and a race socket the whole time (they receive the sync events:
the topology syncs every 10 s here). Errors are 5xx answers, failed connections or timeouts, and sockets the
server closed before the end. Prints requests per second, latency percentiles per kind and the error counts;
exits non-zero if anything failed. With --start-topology it runs `Procfile.scaled` (proxy + 2 uvicorn + worker +
beat) on a PostgreSQL database of its own (goatedvips_bench) and Redis db 2, and stops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.request import urlopen

import production  # bench/production.py: the production configuration every bench runs

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "goatedvips_bench"

MIX = [  # (kind, weight, path template)
    ("page:home", 15, "/"),
    ("page:leaderboard", 20, "/leaderboard/?period=monthly"),
    ("page:race", 15, "/races/{race}/"),
    ("page:player", 10, "/players/{uid}/"),
    ("api:leaderboard", 25, "/api/v1/leaderboard/?period=monthly&limit=50"),
    ("api:race", 15, "/api/v1/races/{race}/?limit=50"),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def wait_up(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 (http://127.0.0.1 only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not come up")


def start_topology(port: int) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}",
        "REDIS_URL": "redis://127.0.0.1:6379/2", "PROMETHEUS_MULTIPROC_DIR": str(ROOT / "var" / "prometheus-bench"),
        "PORT": str(port), "SYNC_INTERVAL_SECONDS": "10", "LOG_LEVEL": "WARNING", **production.ENV,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    }  # fmt: skip
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {BENCH_DB}"], check=True)
    subprocess.run(["redis-cli", "-n", "2", "flushdb"], check=True, capture_output=True)
    metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for old in metrics_dir.glob("*.db"):
        old.unlink()
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    with open(ROOT / "var" / "bench-topology.log", "w") as log:  # the child keeps its own copy of the handle
        honcho = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile.scaled"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_up(url)
    return honcho, url


def stop_topology(honcho: subprocess.Popen) -> None:
    os.killpg(honcho.pid, signal.SIGTERM)
    try:
        honcho.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(honcho.pid, signal.SIGKILL)


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.errors: Counter = Counter()
        self.socket_events = 0
        self.sockets_opened = 0
        self.sockets_dropped = 0


async def user(session, url: str, until: float, targets: dict, stats: Stats, rng: random.Random) -> None:
    import aiohttp

    kinds = [m for m in MIX for _ in range(m[1])]
    while time.monotonic() < until:
        kind, _w, template = rng.choice(kinds)
        path = template.format(race=targets["race"], uid=rng.choice(targets["uids"]))
        started = time.monotonic()
        try:
            async with session.get(url + path, timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                stats.status[response.status] += 1
                if response.status >= 500:
                    stats.errors[f"{kind} {response.status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats.errors[f"{kind} {type(exc).__name__}"] += 1
        stats.latency[kind].append(time.monotonic() - started)
        await asyncio.sleep(rng.uniform(0.5, 2.0))


async def listener(session, url: str, path: str, until: float, stats: Stats) -> None:
    import aiohttp

    ws_url = url.replace("http", "ws", 1) + path
    try:
        async with session.ws_connect(ws_url, headers={"Origin": url}, heartbeat=None) as ws:
            stats.sockets_opened += 1
            while time.monotonic() < until:
                try:
                    message = await asyncio.wait_for(ws.receive(), timeout=max(0.1, until - time.monotonic()))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    stats.socket_events += 1
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    stats.sockets_dropped += 1
                    return
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.errors[f"socket {type(exc).__name__}"] += 1


async def run(url: str, users: int, seconds: int) -> Stats:
    import aiohttp

    print(production.SETTINGS_LINE)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=production.HEADERS) as session:
        async with session.get(f"{url}/api/v1/races/current/") as response:
            race = (await response.json())["id"]
        async with session.get(f"{url}/api/v1/leaderboard/?period=all_time&limit=100") as response:
            uids = [row["uid"] for row in (await response.json())["results"]]
        targets, stats = {"race": race, "uids": uids}, Stats()
        until = time.monotonic() + seconds
        rng = random.Random(2026)
        tasks = [user(session, url, until, targets, stats, random.Random(rng.random())) for _ in range(users)]
        for _ in range(users // 4):
            tasks.append(listener(session, url, "/ws/leaderboard/", until, stats))
            tasks.append(listener(session, url, f"/ws/races/{race}/", until, stats))
        await asyncio.gather(*tasks)
        return stats


def report(stats: Stats, users: int, seconds: int) -> int:
    total = sum(len(v) for v in stats.latency.values())
    print(f"\n{users} users, {seconds} s: {total} requests ({total / seconds:.1f}/s), statuses {dict(stats.status)}")
    print(f"{'kind':<18}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, values in sorted(stats.latency.items()):
        print(f"{kind:<18}{len(values):>7}{pct(values, .5) * 1000:>9.0f}{pct(values, .95) * 1000:>9.0f}"
              f"{pct(values, .99) * 1000:>9.0f}{max(values) * 1000:>9.0f}")  # fmt: skip
    every = [v for values in stats.latency.values() for v in values]
    mean = statistics.mean(every) * 1000
    print(f"{'all':<18}{len(every):>7}{pct(every, .5) * 1000:>9.0f}{pct(every, .95) * 1000:>9.0f}"
          f"{pct(every, .99) * 1000:>9.0f}{max(every) * 1000:>9.0f}  mean {mean:.0f} ms")  # fmt: skip
    print(f"sockets: {stats.sockets_opened} opened, {stats.sockets_dropped} dropped by the server, "
          f"{stats.socket_events} messages received")  # fmt: skip
    errors = sum(stats.errors.values()) + stats.sockets_dropped
    print(f"errors: {errors} {dict(stats.errors) if stats.errors else ''}")
    return 1 if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--start-topology", action="store_true")
    parser.add_argument("--port", type=int, default=8010, help="the proxy's port with --start-topology")
    args = parser.parse_args()
    honcho = None
    url = args.url
    if args.start_topology:
        print("starting the scaled topology (proxy, 2 uvicorn, worker, beat) …", flush=True)
        honcho, url = start_topology(args.port)
    try:
        stats = asyncio.run(run(url, args.users, args.seconds))
        if honcho is not None:
            with urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310 (loopback: allowed to scrape)
                lines = [line for line in response.read().decode().splitlines()
                         if line.startswith(("goatedvips_http_requests_total", "goatedvips_sync_runs_total"))
                         and not line.endswith(" 0.0")]  # fmt: skip
            print(f"server side (/metrics, all processes): {len(lines)} non-zero series, e.g.")
            for line in sorted(lines, key=lambda l: -float(l.rsplit(" ", 1)[1]))[:6]:  # noqa: E741
                print("  " + line)
    finally:
        if honcho is not None:
            stop_topology(honcho)
    sys.exit(report(stats, args.users, args.seconds))


if __name__ == "__main__":
    main()
