"""Chaos suite: faults injected into the scaled topology under a steady load, each step with checks that can fail.

    .venv/bin/python bench/chaos.py [--short] [--users 50] [--steps kill-web,restart-postgres]
    make chaos [PROFILE=short]

The topology is Procfile.scaled's (nginx in front of two uvicorn processes, a Celery worker, beat) with production
settings (bench/production.py), on a PostgreSQL cluster and a Redis of the suite's own (ports 5440 and 6390, made
and thrown away here: the shared ones are never touched). bench/load.py's simulated users (50 by default, a
quarter of them also holding a leaderboard socket, reopened when the server drops it) load it the whole time,
all on loopback. The steps, in order, each bounded in time:

  kill-web          kill -9 one web process: nginx routes around it within 2 s, no request but those in flight
                    on it fails, the sockets it held reconnect and get a fresh snapshot first; then it is
                    started again.
  restart-postgres  stop PostgreSQL, start it again: every request answers within 5 s, failures are 503 (never a
                    500 or a dropped connection), /readyz of each web process recovers, no process restarted.
  second-beat       start a second beat: no more syncs run than one beat's periods allow (it stands by:
                    goatedvips/beatlock.py); kill -9 the first: the second takes over.
  kill-worker       kill -9 the worker while a sync is inside its transaction (held there by a table lock):
                    players and logs as they were, the sync lock freed, the next beat tick syncs.
  restart-redis     stop Redis, start it again: pages and the API keep answering, /readyz names the channel
                    layer while it is down and recovers, no race finalized twice, the sockets get a sync's
                    event again, no socket gets one event twice.
  log-unwritable    restart a web process with its log on /dev/full: it starts, answers every request (missing
                    pages log a warning there), and nothing through nginx fails.

It prints a table (fault, requests sent, failed, max recovery time, data checks passed) and exits non-zero when
any check fails. --short shortens every wait (CI: .ci/run, within 5 minutes). Logs: var/chaos/.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field

import chaos_steps
import load  # bench/load.py: the topology's environment and setup, the simulated users
import production  # bench/production.py: the production configuration every bench runs
from chaos_services import OwnPostgres, OwnRedis, Topology

PG_PORT, REDIS_PORT, HTTP_PORT, TLS_PORT = 5440, 6390, 8120, 8463
WEB_PORTS = {"web1": 8121, "web2": 8122}
DATABASE = "goatedvips_chaos"


@dataclass
class Step:
    fault: str
    sent: int = 0
    failed: int = 0
    recovery: float = 0.0
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, bool(passed), detail))
        print(f"    {'ok  ' if passed else 'FAIL'} {name}{f': {detail}' if detail else ''}", flush=True)


class Load:
    """The steady load: bench/load.py's users and sockets, running until stopped; sockets reopen when dropped."""

    def __init__(self, url: str, users: int):
        self.url, self.users, self.stats = url, users, load.Stats()
        self.tasks: list[asyncio.Task] = []
        self.session = None

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=load.UNVERIFIED))
        targets = await load.load_targets(self.session, self.url)
        until, rng = time.monotonic() + 24 * 3600, random.Random(2026)
        for _ in range(self.users):
            user = load.user(self.session, self.url, until, targets, self.stats, random.Random(rng.random()))
            self.tasks.append(asyncio.create_task(user))
        for _ in range(self.users // 4):
            self.tasks.append(asyncio.create_task(self._socket(until)))

    async def _socket(self, until: float) -> None:
        while time.monotonic() < until:
            await load.listener(self.session, self.url, "/ws/leaderboard/", until, self.stats)
            await asyncio.sleep(0.5)  # as the site's own script does: back off, then reopen

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()

    def window(self, start: float, end: float | None = None) -> list[tuple[float, float, int | str]]:
        """Requests started in [start, end)."""
        end = end if end is not None else time.monotonic()
        return [r for r in self.stats.requests if start <= r[0] < end]


def failed(outcome: int | str) -> bool:
    return not isinstance(outcome, int) or outcome >= 500


def table(steps: list[Step]) -> str:
    lines = [f"| {'fault':<18} | {'sent':>6} | {'failed':>6} | {'max recovery':>12} | {'data checks':>11} |",
             f"|{'-' * 20}|{'-' * 8}|{'-' * 8}|{'-' * 14}|{'-' * 13}|"]  # fmt: skip
    for step in steps:
        passed = sum(ok for _n, ok, _d in step.checks)
        lines.append(f"| {step.fault:<18} | {step.sent:>6} | {step.failed:>6} | {step.recovery:>10.1f} s | "
                     f"{passed:>5} of {len(step.checks):<3} |")  # fmt: skip
    return "\n".join(lines)


async def run(args: argparse.Namespace, topology: Topology, pg: OwnPostgres, redis: OwnRedis, url: str) -> list[Step]:
    steady = Load(url, args.users)
    await steady.start()
    await asyncio.sleep(args.warmup)
    baseline = steady.window(0)
    print(f"load: {args.users} users, {len(baseline)} requests in the warm-up, "
          f"{sum(failed(o) for _s, _e, o in baseline)} failed", flush=True)  # fmt: skip
    context = chaos_steps.Context(topology, pg, redis, steady, args, WEB_PORTS, DATABASE, Step, failed)
    steps = []
    try:
        for name in args.steps:
            print(f"\n== {name}", flush=True)
            step = await chaos_steps.STEPS[name](context)
            steps.append(step)
    finally:
        await steady.stop()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--short", action="store_true", help="shorter waits (CI): the whole suite within 5 minutes")
    parser.add_argument("--steps", default=",".join(chaos_steps.STEPS), help="comma-separated, in this order")
    args = parser.parse_args()
    args.steps = [s for s in args.steps.split(",") if s]
    unknown = set(args.steps) - set(chaos_steps.STEPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    args.warmup = 5 if args.short else 15
    started = time.monotonic()
    pg, redis = OwnPostgres(PG_PORT), OwnRedis(REDIS_PORT)
    topology = None
    try:
        print(f"own PostgreSQL on {PG_PORT}, own Redis on {REDIS_PORT}; starting the scaled topology …", flush=True)
        pg.init()
        redis.start()
        env = {**load.topology_env(pg.url(DATABASE), redis.url(0), HTTP_PORT, TLS_PORT, name="chaos"),
               **production.ENV, "LOG_LEVEL": "WARNING"}  # fmt: skip
        load.topology_prepare(env, pg.url("postgres"), DATABASE)
        topology = Topology(env, WEB_PORTS)
        topology.start_all()
        for port in WEB_PORTS.values():
            load.wait_up(f"http://127.0.0.1:{port}")
        url = f"https://127.0.0.1:{TLS_PORT}"
        load.wait_up(url)
        steps = asyncio.run(run(args, topology, pg, redis, url))
    finally:
        if topology is not None:
            topology.stop_all()
        redis.stop()
        pg.destroy()
    print(f"\nchaos suite: {len(steps)} steps in {time.monotonic() - started:.0f} s "
          f"({'short' if args.short else 'full'} profile, {args.users} users)\n")  # fmt: skip
    print(table(steps))
    failures = [(s.fault, n, d) for s in steps for n, ok, d in s.checks if not ok]
    for fault, name, detail in failures:
        print(f"FAILED {fault}: {name} ({detail})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
