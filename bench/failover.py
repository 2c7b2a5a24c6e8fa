"""Redis failover under load: simulated users browse a web process that reaches Redis through Sentinel while the
Redis primary is killed (SIGKILL); prints what was lost and how soon the site served again (issue 37, acceptance 2;
the figure is in docs/operations.md, "Redis Sentinel").

    .venv/bin/python bench/failover.py [--users 50] [--before 15] [--after 30] [--down-after-ms 2000]

It starts a Sentinel set of its own (scripts/redis_sentinel.py: a primary, a replica, three sentinels on free ports
in a temporary directory), a PostgreSQL database of its own (goatedvips_failover, migrated and seeded through
Sentinel) and one uvicorn on :8032 with the production settings and REDIS_SENTINELS/REDIS_SENTINEL_MASTER. The
users run bench/load.py's mix of pages and API calls (0.5-2 s apart, each with an address of its own in
X-Forwarded-For as nginx would send it); /readyz is polled every 0.25 s. After --before seconds the primary is
killed; the run goes on --after seconds. Every request is classed by when it started and ended against the kill
and the promotion (the moment every sentinel names the replica): in flight at the kill, sent during the outage
(after the kill, before the promotion), sent after the promotion. Exits non-zero if a request sent more than
10 s after the promotion failed, or if /readyz was not 200 again within 10 s of it. Processes are stopped in a
finally; Celery is not started (the broker's failover is tests/deploy/test_sentinel.py's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import production  # bench/production.py: the production configuration every bench runs
from load import MIX, pct

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import redis_sentinel  # noqa: E402 (scripts/ is not a package)

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_failover"
BUDGET_SECONDS = 10


@dataclass
class Request:
    kind: str
    started: float
    ended: float
    ok: bool
    outcome: str


def start_web(sentinels: redis_sentinel.SentinelSet, port: int) -> subprocess.Popen:
    env = {
        **os.environ, **production.ENV, **sentinels.env,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}", "TRUSTED_PROXY_HOPS": "1",
        "LOG_LEVEL": "WARNING", "CACHE_KEY_PREFIX": "failover", "CHANNEL_LAYER_PREFIX": "failover",
    }  # fmt: skip
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_REPLICA_URL", None)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    uvicorn = ROOT / ".venv" / "bin" / "uvicorn"
    args = [str(uvicorn), "goatedvips.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--lifespan", "off", "--no-proxy-headers", "--no-access-log"]
    with open(ROOT / "var" / "bench-failover-web.log", "w") as log:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def wait_up(session, url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{url}/readyz", headers=production.HEADERS) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit(f"{url}/readyz did not answer 200 within {seconds} s")


async def user(session, url, until, targets, log: list[Request], rng: random.Random) -> None:
    import aiohttp

    kinds = [m for m in MIX for _ in range(m[1])]
    headers = {**production.HEADERS, "X-Forwarded-For": f"10.{rng.randrange(256)}.{rng.randrange(256)}.7"}
    while time.monotonic() < until:
        kind, _w, template = rng.choice(kinds)
        path = template.format(race=targets["race"], uid=rng.choice(targets["uids"]))
        started = time.monotonic()
        try:
            async with session.get(url + path, headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                ok, outcome = response.status < 500, str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok, outcome = False, type(exc).__name__
        log.append(Request(kind, started, time.monotonic(), ok, outcome))
        await asyncio.sleep(rng.uniform(0.5, 2.0))


async def readiness(session, url, until, log: list[Request]) -> None:
    import aiohttp

    while time.monotonic() < until:
        started = time.monotonic()
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with session.get(f"{url}/readyz", headers=production.HEADERS, timeout=timeout) as response:
                body = await response.text()
                log.append(Request("readyz", started, time.monotonic(), response.status == 200, body[:200]))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.append(Request("readyz", started, time.monotonic(), False, type(exc).__name__))
        await asyncio.sleep(0.25)


async def scenario(url: str, sentinels, users: int, before: float, after: float) -> dict:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await wait_up(session, url)
        async with session.get(f"{url}/api/v1/races/current/", headers=production.HEADERS) as response:
            race = (await response.json())["id"]
        async with session.get(f"{url}/api/v1/leaderboard/?period=all_time&limit=100", headers=production.HEADERS) as r:
            uids = [row["uid"] for row in (await r.json())["results"]]
        requests: list[Request] = []
        probes: list[Request] = []
        start = time.monotonic()
        until = start + before + after
        rng = random.Random(2026)
        targets = {"race": race, "uids": uids}
        tasks = [user(session, url, until, targets, requests, random.Random(rng.random())) for _ in range(users)]
        tasks.append(readiness(session, url, until, probes))
        load = asyncio.gather(*tasks)
        await asyncio.sleep(before)
        old_primary = sentinels.primary
        sentinels.kill("primary")
        killed = time.monotonic()
        await asyncio.to_thread(sentinels.wait_promoted, old_primary, after)
        promoted = time.monotonic()
        await load
        return {"start": start, "killed": killed, "promoted": promoted, "requests": requests, "probes": probes}


def report(result: dict, users: int) -> int:
    killed, promoted, requests = result["killed"], result["promoted"], result["requests"]
    classes = {
        "before the kill": [r for r in requests if r.ended < killed],
        "in flight at the kill": [r for r in requests if r.started < killed <= r.ended],
        "sent during the outage": [r for r in requests if killed <= r.started < promoted],
        "sent after the promotion": [r for r in requests if r.started >= promoted],
    }
    print(f"\n{users} users; primary killed at {killed - result['start']:.1f} s; "
          f"replica promoted {promoted - killed:.2f} s later")  # fmt: skip
    print(f"{'requests':<28}{'sent':>7}{'failed':>8}{'max s':>10}  failures")
    for name, rows in classes.items():
        failed = [r for r in rows if not r.ok]
        outcomes: dict[str, int] = {}
        for r in failed:
            outcomes[f"{r.kind} {r.outcome}"] = outcomes.get(f"{r.kind} {r.outcome}", 0) + 1
        slowest = max((r.ended - r.started for r in rows), default=0.0)
        print(f"{name:<28}{len(rows):>7}{len(failed):>8}{slowest:>10.2f}  {outcomes or ''}")
    late = [r for r in classes["sent after the promotion"] if not r.ok]
    last_failure = max((r.started - promoted for r in late), default=None)
    ok_after = [r for r in requests if r.started >= promoted and r.ok]
    first_ok = min((r.ended - promoted for r in ok_after), default=None)
    ready = [p for p in result["probes"] if p.started >= killed]
    not_ready = [p for p in ready if not p.ok]
    last_not_ready = max((p.started for p in not_ready), default=0.0)
    ready_again = min((p.ended - promoted for p in ready if p.ok and p.started > last_not_ready), default=None)
    after = [r.ended - r.started for r in ok_after]
    print(f"after the promotion: first request served after {_s(first_ok)}, last failed request sent at "
          f"{_s(last_failure)}; /readyz 200 for good after {_s(ready_again)} ({len(not_ready)} probes not ready); "
          f"latency p50 {pct(after, .5) * 1000:.0f} ms, p95 {pct(after, .95) * 1000:.0f} ms")  # fmt: skip
    if not_ready:
        print(f"a /readyz answer while not ready: {not_ready[0].outcome}")
    slow = [r for r in late if r.started - promoted > BUDGET_SECONDS]
    bad = bool(slow) or ready_again is None or ready_again > BUDGET_SECONDS
    print(("FAIL" if bad else "PASS") + f": the site serves within {BUDGET_SECONDS} s of the failover")
    return 1 if bad else 0


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--before", type=float, default=15, help="seconds of load before the kill")
    parser.add_argument("--after", type=float, default=30, help="seconds of load after the kill")
    parser.add_argument("--down-after-ms", type=int, default=2000, help="sentinel down-after-milliseconds")
    parser.add_argument("--port", type=int, default=8032)
    args = parser.parse_args()
    web = None
    with tempfile.TemporaryDirectory(prefix="gv-failover-") as directory:
        sentinels = redis_sentinel.SentinelSet.start(
            Path(directory), down_after_ms=args.down_after_ms, failover_timeout_ms=10_000, timeout=30
        )
        try:
            print(f"Sentinel set up (down-after {args.down_after_ms} ms); migrating and seeding …", flush=True)
            web = start_web(sentinels, args.port)
            result = asyncio.run(scenario(f"http://127.0.0.1:{args.port}", sentinels, args.users, args.before,
                                          args.after))  # fmt: skip
        finally:
            if web is not None:
                os.killpg(web.pid, signal.SIGTERM)
                try:
                    web.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(web.pid, signal.SIGKILL)
            sentinels.stop()
    sys.exit(report(result, args.users))


if __name__ == "__main__":
    main()
