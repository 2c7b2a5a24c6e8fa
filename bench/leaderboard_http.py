"""Leaderboard API throughput vs a constant-JSON view, in the same daphne server, in one run.

    .venv/bin/python bench/leaderboard_http.py [--seconds 8] [--concurrency 32]

The server runs `bench.settings` (the real settings plus `/bench/constant/`, a view returning a fixed payload of
the same shape and size without touching the cache or the database). After one sync of the demo feed, both
endpoints are loaded alternately by an aiohttp client; the script prints requests per second and the ratio.
Target: the leaderboard at >= 60 % of the constant view. (0 database queries on a warm cache is asserted by
tests/races/test_leaderboard.py.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fanout import ROOT, start_servers


async def load(url: str, seconds: float, concurrency: int) -> float:
    import aiohttp

    done = 0
    deadline = time.monotonic() + seconds

    async def worker(session):
        nonlocal done
        while time.monotonic() < deadline:
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200, response.status
                done += 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return done / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    database = ROOT / "var" / "bench-http.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "REDIS_URL": args.redis,
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "sync_wagers", "-v", "0"], cwd=ROOT, env=env, check=True)
    procs, (port,) = start_servers(1, env)
    try:
        base = f"http://127.0.0.1:{port}"
        urls = {
            "leaderboard": f"{base}/api/v1/leaderboard/?period=monthly&limit=25",
            "constant": f"{base}/bench/constant/",
        }
        asyncio.run(load(urls["leaderboard"], 1, 4))  # warm up
        rates: dict[str, list[float]] = {"leaderboard": [], "constant": []}
        for _ in range(2):  # alternate, so drift on a noisy machine hits both
            for name, url in urls.items():
                rates[name].append(asyncio.run(load(url, args.seconds / 2, args.concurrency)))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    lb, const = sum(rates["leaderboard"]) / 2, sum(rates["constant"]) / 2
    print(f"{'endpoint':<28}{'req/s':>10}")
    print(f"{'/api/v1/leaderboard/':<28}{lb:>10.0f}")
    print(f"{'constant JSON view':<28}{const:>10.0f}")
    print(f"\nleaderboard / constant: {lb / const:.0%} (target >= 60 %)")


if __name__ == "__main__":
    main()
