"""Load test: simulated users browsing the site and holding live sockets, against the scaled topology.

    .venv/bin/python bench/load.py --start-topology [--users 200] [--seconds 60]
    .venv/bin/python bench/load.py --url https://127.0.0.1:8443         # a topology already running (nginx, TLS)

Each simulated user loops for the duration: a weighted mix of pages and API calls (home, leaderboard, race
page, player page, leaderboard and race API) with 0.5-2 s of "reading" between them, as people do. A quarter of
the users also hold a live leaderboard socket and a race socket the whole time (they receive the sync events:
the topology syncs every 10 s here). Errors are 5xx answers, failed connections or timeouts, and sockets the
server closed before the end. Prints requests per second, latency percentiles per kind and the error counts;
exits non-zero if anything failed. With --start-topology it runs `Procfile.scaled` (nginx + 2 uvicorn + worker +
beat) on a PostgreSQL database of its own (goatedvips_bench) and Redis db 2, and stops it afterwards.

Every request goes over TLS to nginx (deploy/nginx.conf; the local self-signed certificate, so the client does not
verify it), which sets X-Forwarded-Proto, X-Forwarded-For and Host as in production; the client adds no proxy
header of its own. The load generator shares the machine with the topology: its CPU share (this process's CPU
time over the wall time of the run times the cores) is printed with the figures, with the topology's CPU per kind
of process and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import ssl
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


# The local topology's certificate is self-signed (scripts/nginx_conf.py): encrypted, not verified (loopback only).
UNVERIFIED = ssl.create_default_context()
UNVERIFIED.check_hostname = False
UNVERIFIED.verify_mode = ssl.CERT_NONE


def wait_up(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/healthz", timeout=2, context=UNVERIFIED) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not come up")


def topology_env(database_url: str, redis_url: str, port: int, tls_port: int, name: str = "bench") -> dict:
    """The environment of a scaled topology of our own (bench/chaos.py starts one too): production settings."""
    return {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(ROOT / "var" / f"prometheus-{name}"),
        "PORT": str(port), "TLS_PORT": str(tls_port), "NGINX_PREFIX": f"var/nginx-{name}",
        "TRUSTED_PROXY_HOPS": "1",  # nginx, the one proxy of ours
        "SYNC_INTERVAL_SECONDS": "10", "LOG_LEVEL": "WARNING", **production.ENV,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    }  # fmt: skip


def topology_prepare(env: dict, admin_url: str, database: str) -> None:
    """A fresh database and Redis database, migrated and seeded, the static files collected, no old metrics."""
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {database}"], check=True)
    subprocess.run(["redis-cli", "-u", env["REDIS_URL"], "flushdb"], check=True, capture_output=True)
    metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for old in metrics_dir.glob("*.db"):
        old.unlink()
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)


def start_topology(port: int, tls_port: int) -> tuple[subprocess.Popen, str]:
    env = topology_env(f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}", "redis://127.0.0.1:6379/2", port, tls_port)
    topology_prepare(env, PG_ADMIN, BENCH_DB)
    with open(ROOT / "var" / "bench-topology.log", "w") as log:  # the child keeps its own copy of the handle
        honcho = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile.scaled"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    for web in ("http://127.0.0.1:8001", "http://127.0.0.1:8002"):  # each process first: nginx would count a
        wait_up(web)  # process still starting as failed (max_fails) and leave it out for fail_timeout
    url = f"https://127.0.0.1:{tls_port}"
    wait_up(url)
    return honcho, url


def stop_topology(honcho: subprocess.Popen) -> None:
    os.killpg(honcho.pid, signal.SIGTERM)
    try:
        honcho.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(honcho.pid, signal.SIGKILL)


def tree_cpu(root: int) -> Counter:
    """CPU seconds so far of a process and all its descendants (the topology under honcho), by kind of process."""
    tick, procs = os.sysconf("SC_CLK_TCK"), {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            command = " ".join(Path(arg).name for arg in argv[:2])  # "python uvicorn", "nginx: worker process"
        except (OSError, IndexError):  # not a process, or it ended meanwhile
            continue
        procs[int(proc.name)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / tick)
    cpu, tree = Counter(), {root}
    for _ in range(5):  # honcho → shell → process → its workers
        tree |= {pid for pid, (ppid, _c, _s) in procs.items() if ppid in tree}
    for pid in tree & procs.keys():
        _ppid, command, seconds = procs[pid]
        cpu[next((k for k in ("nginx", "uvicorn", "celery", "honcho") if k in command), "other")] += seconds
    return cpu


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.errors: Counter = Counter()
        self.socket_events = 0
        self.sockets_opened = 0
        self.sockets_dropped = 0
        self.sockets_snapshot_first = 0  # sockets whose first message was a snapshot (a fresh state on connect)
        self.socket_duplicates = 0  # events a socket received twice (one (type, version) is one send)
        self.socket_event_times: list[float] = []  # when each event (not a snapshot) arrived
        # (started, ended, status or the error's name) of every request, for the chaos suite's windows.
        self.requests: list[tuple[float, float, int | str]] = []


async def user(session, url: str, until: float, targets: dict, stats: Stats, rng: random.Random) -> None:
    import aiohttp

    kinds = [m for m in MIX for _ in range(m[1])]
    while time.monotonic() < until:
        kind, _w, template = rng.choice(kinds)
        path = template.format(race=targets["race"], uid=rng.choice(targets["uids"]))
        started = time.monotonic()
        outcome: int | str
        try:
            async with session.get(url + path, timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                outcome = response.status
                stats.status[response.status] += 1
                if response.status >= 500:
                    stats.errors[f"{kind} {response.status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcome = type(exc).__name__
            stats.errors[f"{kind} {outcome}"] += 1
        stats.latency[kind].append(time.monotonic() - started)
        stats.requests.append((started, time.monotonic(), outcome))
        await asyncio.sleep(rng.uniform(0.5, 2.0))


async def listener(session, url: str, path: str, until: float, stats: Stats) -> None:
    import aiohttp

    ws_url = url.replace("http", "ws", 1) + path
    try:
        async with session.ws_connect(ws_url, headers={"Origin": url}, heartbeat=None) as ws:
            stats.sockets_opened += 1
            seen: set[tuple] = set()
            while time.monotonic() < until:
                try:
                    message = await asyncio.wait_for(ws.receive(), timeout=max(0.1, until - time.monotonic()))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    stats.socket_events += 1
                    _socket_message(stats, seen, message.data)
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    stats.sockets_dropped += 1
                    return
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.errors[f"socket {type(exc).__name__}"] += 1


def _socket_message(stats: Stats, seen: set[tuple], text: str) -> None:
    """Count a socket's first message if it is a snapshot, and an event received twice (core.realtime gives every
    send its own version: the time it was sent, in microseconds)."""
    try:
        message = json.loads(text)
    except ValueError:
        return
    key = (message.get("type"), message.get("version"))
    if not seen:
        stats.sockets_snapshot_first += key[0] == "snapshot"
    elif key[0] != "snapshot" and key in seen:
        stats.socket_duplicates += 1
    if key[0] != "snapshot":
        stats.socket_event_times.append(time.monotonic())
    seen.add(key)


async def load_targets(session, url: str) -> dict:
    """What the simulated users visit: the current race and the top 100 players."""
    async with session.get(f"{url}/api/v1/races/current/") as response:
        race = (await response.json())["id"]
    async with session.get(f"{url}/api/v1/leaderboard/?period=all_time&limit=100") as response:
        uids = [row["uid"] for row in (await response.json())["results"]]
    return {"race": race, "uids": uids}


async def run(url: str, users: int, seconds: int) -> Stats:
    import aiohttp

    print(
        "settings: production (DEBUG=0, SECURE_SSL_REDIRECT on, HSTS, the real middleware); requests go over TLS "
        "to nginx, which sets X-Forwarded-Proto/-For and Host"
    )
    connector = aiohttp.TCPConnector(limit=0, ssl=UNVERIFIED)
    async with aiohttp.ClientSession(connector=connector) as session:
        targets, stats = await load_targets(session, url), Stats()
        race = targets["race"]
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


def measure(honcho: subprocess.Popen | None) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall": time.monotonic(), "client": usage.ru_utime + usage.ru_stime, "load": os.getloadavg(),
        "topology": tree_cpu(honcho.pid) if honcho is not None else Counter(),
    }  # fmt: skip


def report_cpu(before: dict, after: dict) -> None:
    """Whose CPU the run used: the load generator's share of the machine says how far the figures can be judged."""
    wall, cores = after["wall"] - before["wall"], os.cpu_count() or 1
    client = after["client"] - before["client"]
    print(f"load generator CPU: {client:.1f} s over {wall:.1f} s wall = {client / wall:.2f} cores, "
          f"{100 * client / (wall * cores):.0f} % of the machine's {cores} cores")  # fmt: skip
    if after["topology"]:
        used = {kind: after["topology"][kind] - before["topology"][kind] for kind in sorted(after["topology"])}
        print("topology CPU: " + ", ".join(f"{kind} {s:.1f} s ({100 * s / (wall * cores):.0f} %)"
                                           for kind, s in used.items()))  # fmt: skip
    print("load average (1, 5, 15 min): before " + " ".join(f"{v:.2f}" for v in before["load"])
          + ", after " + " ".join(f"{v:.2f}" for v in after["load"]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="https://127.0.0.1:8443")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--start-topology", action="store_true")
    parser.add_argument("--port", type=int, default=8010, help="nginx's HTTP port with --start-topology")
    parser.add_argument("--tls-port", type=int, default=8453, help="nginx's HTTPS port with --start-topology")
    args = parser.parse_args()
    honcho = None
    url = args.url
    if args.start_topology:
        print("starting the scaled topology (nginx, 2 uvicorn, worker, beat) …", flush=True)
        honcho, url = start_topology(args.port, args.tls_port)
    try:
        before = measure(honcho)
        stats = asyncio.run(run(url, args.users, args.seconds))
        after = measure(honcho)
        if honcho is not None:
            with urlopen(f"{url}/metrics", timeout=10, context=UNVERIFIED) as response:  # noqa: S310 (loopback)
                lines = [line for line in response.read().decode().splitlines()
                         if line.startswith(("goatedvips_http_requests_total", "goatedvips_sync_runs_total"))
                         and not line.endswith(" 0.0")]  # fmt: skip
            print(f"server side (/metrics, all processes): {len(lines)} non-zero series, e.g.")
            for line in sorted(lines, key=lambda l: -float(l.rsplit(" ", 1)[1]))[:6]:  # noqa: E741
                print("  " + line)
    finally:
        if honcho is not None:
            stop_topology(honcho)
    status = report(stats, args.users, args.seconds)
    report_cpu(before, after)
    sys.exit(status)


if __name__ == "__main__":
    main()
