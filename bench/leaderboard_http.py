"""Leaderboard API and anonymous page throughput against a raw ASGI "hello" app on the same server, in one run.

    .venv/bin/python bench/leaderboard_http.py [--seconds 12] [--rounds 3] [--concurrency 32] [--clients 2]

Two daphne processes serve `bench.asgi:application` (the site plus `/bench/hello/`, a bare ASGI app answering a
fixed body: the ceiling of any path through this server) on a PostgreSQL database of its own after one sync of
the demo feed and the demo data, with the Redis cache: one with the leaderboard fast path (goatedvips/fastpath.py)
and the anonymous page cache (goatedvips/pagecache.py), one with LEADERBOARD_FAST_PATH=0 and PAGE_CACHE_SECONDS=0
(every request through Django). Each server is loaded in turn, one at a time, by
`--clients` load-generator processes (aiohttp), the endpoints alternated so drift on a noisy machine hits all
of them. Prints requests per second and the ratios with pass/fail.

Production settings (bench/production.py): DEBUG=0, the SSL redirect, HSTS; every request carries
X-Forwarded-Proto: https as the balancer sends it.

Targets (issue 31): the leaderboard API at >= 50 % of the raw ASGI hello on the same server; anonymous `GET /` and
`GET /leaderboard/` (full HTML, no cookies) at >= 25 %.
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
PAGE_TARGET = 0.25


async def _load(url: str, seconds: float, concurrency: int) -> float:
    """Requests per second answered to this client, over its own load window (process start and imports are
    not counted)."""
    import aiohttp

    done = 0
    began = time.monotonic()
    deadline = began + seconds

    async def worker(session):
        nonlocal done
        while time.monotonic() < deadline:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url}: {response.status}")
                done += 1

    connector = aiohttp.TCPConnector(limit=0)
    jar = aiohttp.DummyCookieJar()  # a visitor without cookies, as the anonymous pages are measured
    async with aiohttp.ClientSession(connector=connector, headers=production.HEADERS, cookie_jar=jar) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return done / (time.monotonic() - began)


def _client(url: str, seconds: float, concurrency: int, out) -> None:
    out.put(asyncio.run(_load(url, seconds, concurrency)))


def rate(url: str, seconds: float, concurrency: int, clients: int) -> float:
    """Requests per second from `clients` processes loading `url` together (the sum of their own rates)."""
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(url, seconds, concurrency // clients, out))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    total = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="each endpoint loaded this many times, alternated")
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
    for command in (["seed_demo"], ["sync_wagers"], ["collectstatic", "--noinput"]):
        subprocess.run([sys.executable, "manage.py", *command, "-v", "0"], cwd=ROOT, env=env, check=True)
    app = "bench.asgi:application"
    fast_procs, (fast_port,) = start_servers(1, env, app, args.server)
    slow_env = {**env, "LEADERBOARD_FAST_PATH": "0", "PAGE_CACHE_SECONDS": "0"}
    slow_procs, (slow_port,) = start_servers(1, slow_env, app, args.server)
    query = "/api/v1/leaderboard/?period=monthly&limit=25"
    fast, slow = f"http://127.0.0.1:{fast_port}", f"http://127.0.0.1:{slow_port}"
    urls = {
        "raw ASGI hello": f"{fast}/bench/hello/",
        "leaderboard, fast path": f"{fast}{query}",
        "leaderboard, through Django": f"{slow}{query}",
        "GET /, page cache": f"{fast}/",
        "GET /, through Django": f"{slow}/",
        "GET /leaderboard/, page cache": f"{fast}/leaderboard/",
        "GET /leaderboard/, through Django": f"{slow}/leaderboard/",
    }
    try:
        for url in urls.values():
            rate(url, 1, 8, 1)  # warm up: imports, the first cache read, the fast path's header template
        rates: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(args.rounds):
            for name, url in urls.items():
                rates[name].append(rate(url, args.seconds / args.rounds, args.concurrency, args.clients))
    finally:
        for proc in (*fast_procs, *slow_procs):
            proc.terminate()
            proc.wait(10)
    mean = {name: sum(values) / len(values) for name, values in rates.items()}
    hello = mean["raw ASGI hello"]
    print(f"\n{f'endpoint ({args.server}, 1 process)':<36}{'req/s':>10}{'of hello':>10}")
    for name, value in mean.items():
        print(f"{name:<36}{value:>10.0f}{value / hello:>10.0%}")
    print()
    for name, target in (("leaderboard, fast path", TARGET), ("GET /, page cache", PAGE_TARGET),
                         ("GET /leaderboard/, page cache", PAGE_TARGET)):  # fmt: skip
        ratio = mean[name] / hello
        verdict = "PASS" if ratio >= target else "FAIL"
        through_django = mean[name.rsplit(",", 1)[0] + ", through Django"]
        print(f"{name} / raw ASGI hello: {ratio:.0%} (target >= {target:.0%}) {verdict}; "
              f"{mean[name] / through_django:.1f}x through Django")  # fmt: skip


if __name__ == "__main__":
    main()
