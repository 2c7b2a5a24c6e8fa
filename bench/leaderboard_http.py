"""Leaderboard API throughput against a raw ASGI "hello" app on the same server, in one run.

    .venv/bin/python bench/leaderboard_http.py [--seconds 12] [--concurrency 32] [--clients 2]

Two daphne processes serve `bench.asgi:application` (the site plus `/bench/hello/`, a bare ASGI app answering a
fixed body: the ceiling of any path through this server) on a PostgreSQL database of its own after one sync of
the demo feed, with the Redis cache: one with the leaderboard fast path (goatedvips/fastpath.py), one with
LEADERBOARD_FAST_PATH=0 (every request through Django). Each server is loaded in turn, one at a time, by
`--clients` load-generator processes (aiohttp), the endpoints alternated so drift on a noisy machine hits all
of them. Prints requests per second and the ratios with pass/fail.

Production settings (bench/production.py): DEBUG=0, the SSL redirect, HSTS; every request carries
X-Forwarded-Proto: https as the balancer sends it.

Target (issue 31): the leaderboard API at >= 50 % of the raw ASGI hello on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import production
from fanout import ROOT, SERVERS, start_servers

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_bench_http"
TARGET = 0.50


async def _load(url: str, seconds: float, concurrency: int) -> int:
    import aiohttp

    done = 0
    deadline = time.monotonic() + seconds

    async def worker(session):
        nonlocal done
        while time.monotonic() < deadline:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url}: {response.status}")
                done += 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=production.HEADERS) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return done


def _client(url: str, seconds: float, concurrency: int, out) -> None:
    out.put(asyncio.run(_load(url, seconds, concurrency)))


def rate(url: str, seconds: float, concurrency: int, clients: int) -> float:
    """Requests per second from `clients` processes loading `url` together."""
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(url, seconds, concurrency // clients, out))
        for _ in range(clients)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    total = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return total / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--server", choices=sorted(SERVERS), default="uvicorn")  # the Procfile's
    args = parser.parse_args()
    print(production.SETTINGS_LINE)
    env = {
        **os.environ, **production.ENV, "DJANGO_SETTINGS_MODULE": "bench.settings", "REDIS_URL": args.redis,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], check=True, capture_output=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "sync_wagers", "-v", "0"], cwd=ROOT, env=env, check=True)
    app = "bench.asgi:application"
    fast_procs, (fast_port,) = start_servers(1, env, app, args.server)
    slow_procs, (slow_port,) = start_servers(1, {**env, "LEADERBOARD_FAST_PATH": "0"}, app, args.server)
    query = "/api/v1/leaderboard/?period=monthly&limit=25"
    urls = {
        "raw ASGI hello": f"http://127.0.0.1:{fast_port}/bench/hello/",
        "leaderboard, fast path": f"http://127.0.0.1:{fast_port}{query}",
        "leaderboard, through Django": f"http://127.0.0.1:{slow_port}{query}",
    }
    try:
        for url in urls.values():
            rate(url, 1, 8, 1)  # warm up: imports, the first cache read, the fast path's header template
        rates: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(2):
            for name, url in urls.items():
                rates[name].append(rate(url, args.seconds / 2, args.concurrency, args.clients))
    finally:
        for proc in (*fast_procs, *slow_procs):
            proc.terminate()
            proc.wait(10)
    mean = {name: sum(values) / len(values) for name, values in rates.items()}
    hello = mean["raw ASGI hello"]
    print(f"\n{f'endpoint ({args.server}, 1 process)':<32}{'req/s':>10}{'of hello':>10}")
    for name, value in mean.items():
        print(f"{name:<32}{value:>10.0f}{value / hello:>10.0%}")
    ratio = mean["leaderboard, fast path"] / hello
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"\nleaderboard API / raw ASGI hello: {ratio:.0%} (target >= {TARGET:.0%}) {verdict}")
    print(f"fast path / through Django: {mean['leaderboard, fast path'] / mean['leaderboard, through Django']:.1f}x")


if __name__ == "__main__":
    main()
