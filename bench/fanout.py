"""WebSocket fan-out benchmark: sockets over several uvicorn processes (the Procfile's server; `--server daphne`
for the other) with the Redis channel layer, against raw Redis pub/sub, in one run.

    .venv/bin/python bench/fanout.py [--clients 1000] [--servers 2] [--client-procs 2] [--rounds 60]
                                     [--layer pubsub|core] [--redis redis://127.0.0.1:6379/13] [--freshness]

The leaderboard sockets (`/ws/leaderboard/`) are held by `--client-procs` processes so the load generator does
not dominate; every socket records when each event arrived. The baseline, in the same run: the same number of
raw Redis pub/sub subscribers (held by the same number of processes) and the same number of published messages.

Fan-out (default): each round, this process sends one `leaderboard.updated` event through `core.realtime.send`
with the send time in it. Prints p50/p99 delivery delay of both, the ratio, and pass/fail against the targets
(issue 18: p99 <= 300 ms and <= 2x the baseline for 1,000 sockets over 2 processes).

End-to-end freshness (`--freshness`): the path a sync takes. A feed of `--players` players in the upstream format
is served over local HTTP (AFFILIATE_API_URL); each round `--changed` of them wagered more, and this process runs
the real sync in-process (`races.services.sync.sync_wagers`: fetch → validate → write → commit → cache →
`send_coalesced` → layer → sockets). t0 is the moment the feed server sends its answer; a round's latency is the
last socket's receipt - t0, split into the sync (t0 → the event's send, its `version` stamp) and the fan-out
(send → last socket). Rounds are spaced more than the 1 s coalescing window apart (syncs run every minute), so
no event is folded. Targets (issue 31, 5,000 sockets over 4 processes, 2,000 players of whom 200 changed): p99
<= 1 s from the feed's answer to the last socket, and the fan-out part <= 2x raw Redis pub/sub (publish → last
subscriber of the round).

`--layer` picks the channel layer (CHANNEL_LAYER_KIND): `pubsub` (one PUBLISH per event, each process fans out
to its own sockets) or `core` (channels-redis's list-based layer: one message per socket). Every run uses the
production settings (bench/production.py) on PostgreSQL (a database of the bench's own, created fresh) + Redis,
and prints the load average, since the machine may be shared. Figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

import production  # bench/production.py: the production configuration every bench runs

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_bench_fanout"
P99_TARGET_MS = 300
RATIO_TARGET = 2.0
FRESHNESS_P99_TARGET_MS = 1000
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


SERVERS = {
    "daphne": lambda app, port, ws: ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
    "uvicorn": lambda app, port, ws: ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                                      "--no-access-log", "--lifespan", "off", "--ws", ws, "--http", "httptools",
                                      "--loop", "uvloop"],
}  # fmt: skip


def start_servers(
    count: int, env: dict, app: str = "goatedvips.asgi:application", server: str = "uvicorn", ws: str = "websockets"
) -> tuple[list[subprocess.Popen], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        port = free_port()
        cmd = [sys.executable, *SERVERS[server](app, port, ws)]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ports.append(port)
    for port in ports:
        for _ in range(300):
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
    return procs, ports


# --- the feed (freshness mode) ----------------------------------------------------------------------------------


class Feed:
    """The affiliate's feed in its upstream format; each round some players wagered more."""

    def __init__(self, players: int, seed: int = 31) -> None:
        self.rng = random.Random(seed)
        self.rows = []
        for i in range(players):
            uid = "".join(self.rng.choice(ALPHABET) for _ in range(20))
            month = self.rng.paretovariate(1.2) * 300
            self.rows.append([uid, f"Player{i}", month * 0.05, month * 0.3, month, month * 12])

    def bump(self, changed: int) -> None:
        for row in self.rng.sample(self.rows, changed):
            extra = self.rng.uniform(1, 500)
            for k in range(2, 6):
                row[k] += extra

    def body(self) -> bytes:
        rows = ",".join(
            f'{{"uid":"{uid}","name":"{name}","wagered":{{"today":{today:.6f},"this_week":{week:.6f},'
            f'"this_month":{month:.6f},"all_time":{all_time:.6f}}}}}'
            for uid, name, today, week, month, all_time in self.rows
        )
        return ('{"success":true,"data":[' + rows + "]}").encode()


class _FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.body
        self.server.answered_at = time.time()  # t0: the feed's answer leaves for the sync
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def feed_server_start() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    server.body, server.answered_at = b"", 0.0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- load-generator processes ----------------------------------------------------------------------------------


def _stamp(data: dict) -> float:
    """When the event was sent: the fan-out rounds carry `sent_at`; a sync's event its version (µs, at send)."""
    return data["sent_at"] if "sent_at" in data else data["version"] / 1e6


async def _sockets(ports: list[int], count: int, offset: int, rounds: int, timeout: float, ready, out) -> None:
    import aiohttp

    delays: list[tuple[float, float]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = []
        for i in range(count):
            port = ports[(offset + i) % len(ports)]
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{port}/ws/leaderboard/",
                headers={"Origin": f"https://127.0.0.1:{port}", **production.HEADERS},
            )
            await ws.receive()  # snapshot
            sockets.append(ws)
        gc.collect()
        gc.freeze()  # the load generator's own collector pauses must not show up as delivery delay
        ready.put(len(sockets))

        async def listen(ws):
            for _ in range(rounds):
                message = await ws.receive()
                received = time.time()
                sent_at = _stamp(json.loads(message.data))
                delays.append((sent_at, received - sent_at))

        await asyncio.wait_for(asyncio.gather(*(listen(ws) for ws in sockets)), timeout)
        for ws in sockets:
            await ws.close()
    out.put(delays)


async def _subscribers(redis_url: str, channel: str, count: int, rounds: int, timeout: float, ready, out) -> None:
    import redis.asyncio as redis

    delays: list[tuple[float, float]] = []
    conns, pubsubs = [], []
    for _ in range(count):
        conn = redis.Redis.from_url(redis_url)
        ps = conn.pubsub()
        await ps.subscribe(channel)
        await ps.get_message(timeout=5)  # subscribe confirmation
        conns.append(conn)
        pubsubs.append(ps)
    ready.put(count)

    async def listen(ps):
        got = 0
        while got < rounds:
            message = await ps.get_message(ignore_subscribe_messages=True, timeout=30)
            if message is not None:
                received = time.time()
                sent_at = json.loads(message["data"])["sent_at"]
                delays.append((sent_at, received - sent_at))
                got += 1

    await asyncio.wait_for(asyncio.gather(*(listen(ps) for ps in pubsubs)), timeout)
    for ps, conn in zip(pubsubs, conns, strict=True):
        await ps.aclose()
        await conn.aclose()
    out.put(delays)


def _run(coroutine_factory, *args) -> None:
    asyncio.run(coroutine_factory(*args))


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure(kind: str, args, ports: list[int], publish) -> dict[float, list[float]]:
    """Start the client processes, wait until every socket/subscriber is in, publish the rounds, gather.

    Returns the delivery delays of each round, keyed by the event's send time."""
    ready, out = multiprocessing.Queue(), multiprocessing.Queue()
    procs, offset = [], 0
    timeout = 120 + args.rounds * (args.gap + 5)
    for count in _spread(args.clients, args.client_procs):
        target_args = (
            (_sockets, ports, count, offset, args.rounds, timeout, ready, out)
            if kind == "websocket"
            else (_subscribers, args.redis, args.baseline_channel, count, args.rounds, timeout, ready, out)
        )
        procs.append(multiprocessing.Process(target=_run, args=target_args))
        offset += count
    for proc in procs:
        proc.start()
    connected = sum(ready.get(timeout=600) for _ in procs)
    print(f"  {connected} {kind} clients connected over {len(procs)} processes", flush=True)
    time.sleep(1)
    publish_ms = []
    for _ in range(args.rounds):
        started = time.time()
        publish(started)
        publish_ms.append((time.time() - started) * 1000)
        time.sleep(args.gap)
    print(f"  publishing took (ms): {', '.join(f'{v:.0f}' for v in publish_ms)}", flush=True)
    pairs = [d for _ in procs for d in out.get(timeout=timeout + 60)]
    for proc in procs:
        proc.join(10)
    by_round: dict[float, list[float]] = {}
    for sent_at, delay in pairs:
        by_round.setdefault(sent_at, []).append(delay)
    worst = ", ".join(f"{max(v) * 1000:.0f}" for _, v in sorted(by_round.items()))
    print(f"  slowest delivery of each round (ms): {worst}", flush=True)
    return by_round


def _flat(by_round: dict[float, list[float]]) -> list[float]:
    return [delay for delays in by_round.values() for delay in delays]


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class Freshness:
    """The rounds of the freshness mode: change the feed, run the real sync, note t0 and what the sync did."""

    def __init__(self, args, server: ThreadingHTTPServer) -> None:
        self.args, self.server = args, server
        self.feed = Feed(args.players)
        self.t0: list[float] = []
        self.returned: list[float] = []  # when sync_wagers returned (commit and after-commit work done)

    def sync(self, changed: int) -> None:
        from races.services.sync import sync_wagers

        if changed:
            self.feed.bump(changed)
        self.server.body = self.feed.body()
        result = sync_wagers()
        assert result.ok, result.summary()
        assert not result.skipped, result.summary()
        expected = changed or self.args.players
        assert result.created + result.updated == expected, result.summary()

    def round(self, _started: float) -> None:
        self.sync(self.args.changed)
        self.returned.append(time.time())
        self.t0.append(self.server.answered_at)


def freshness_report(fresh: Freshness, ws: dict[float, list[float]], base: dict[float, list[float]], args) -> None:
    sends = sorted(ws)
    if len(sends) != len(fresh.t0):
        print(f"FAIL: {len(sends)} distinct events for {len(fresh.t0)} syncs (an event was folded or lost)")
        return
    total, sync_part, fan_part, returned = [], [], [], []
    for t0, sent, back in zip(fresh.t0, sends, fresh.returned, strict=True):
        last = sent + max(ws[sent])
        total.append(last - t0)
        sync_part.append(sent - t0)
        fan_part.append(last - sent)
        returned.append(back - t0)
    base_last = [max(delays) for _, delays in sorted(base.items())]
    print()
    print(f"per round ({len(total)} rounds), ms{'':<18}{'p50':>8}{'p99':>8}{'max':>8}")
    rows = (
        ("feed answer -> last socket", total),
        ("  sync: feed answer -> send", sync_part),
        ("  fan-out: send -> last socket", fan_part),
        ("feed answer -> sync returned", returned),
        ("raw pub/sub: publish -> last", base_last),
    )
    for name, values in rows:
        print(f"{name:<40}{pct(values, 0.5) * 1000:>8.0f}{pct(values, 0.99) * 1000:>8.0f}{max(values) * 1000:>8.0f}")
    ws_all, base_all = _flat(ws), _flat(base)
    print(f"{'every delivery: send -> socket':<40}{pct(ws_all, 0.5) * 1000:>8.0f}{pct(ws_all, 0.99) * 1000:>8.0f}"
          f"{max(ws_all) * 1000:>8.0f}")  # fmt: skip
    print(f"{'every delivery: raw pub/sub':<40}{pct(base_all, 0.5) * 1000:>8.0f}{pct(base_all, 0.99) * 1000:>8.0f}"
          f"{max(base_all) * 1000:>8.0f}")  # fmt: skip
    print()
    p99 = pct(total, 0.99) * 1000
    ratio = pct(fan_part, 0.99) / max(pct(base_last, 0.99), 1e-9)
    ratio_all = pct(ws_all, 0.99) / max(pct(base_all, 0.99), 1e-9)
    print(f"p99 feed answer -> last socket: {p99:.0f} ms (target <= {FRESHNESS_P99_TARGET_MS} ms) "
          f"{_verdict(p99 <= FRESHNESS_P99_TARGET_MS)}")  # fmt: skip
    print(f"p99 fan-out (send -> last socket) / raw pub/sub (publish -> last subscriber): {ratio:.2f}x "
          f"(target <= {RATIO_TARGET:.0f}x) {_verdict(ratio <= RATIO_TARGET)}")  # fmt: skip
    print(f"p99 of every delivery, to raw pub/sub's: {ratio_all:.2f}x")
    expected = args.clients * args.rounds
    print(f"deliveries: {len(ws_all)} of {expected} {_verdict(len(ws_all) == expected)}")


def fanout_report(ws: dict[float, list[float]], base: dict[float, list[float]], args) -> None:
    ws_all, base_all = _flat(ws), _flat(base)
    print()
    print(f"{'':<24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'deliveries':>12}")
    for name, values in (("channels (websocket)", ws_all), ("raw redis pub/sub", base_all)):
        p50, p99 = pct(values, 0.50) * 1000, pct(values, 0.99) * 1000
        print(f"{name:<24}{p50:>10.1f}{p99:>10.1f}{max(values) * 1000:>10.1f}{len(values):>12}")
    print()
    p99 = pct(ws_all, 0.99) * 1000
    ratio = pct(ws_all, 0.99) / max(pct(base_all, 0.99), 1e-9)
    print(f"p99 channels: {p99:.0f} ms (target <= {P99_TARGET_MS} ms) {_verdict(p99 <= P99_TARGET_MS)}")
    print(f"p99 ratio to raw pub/sub: {ratio:.2f}x (target <= {RATIO_TARGET:.0f}x) {_verdict(ratio <= RATIO_TARGET)}")
    expected = args.clients * args.rounds
    print(f"deliveries: {len(ws_all)} of {expected} {_verdict(len(ws_all) == expected)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--layer", choices=["pubsub", "core"], default="pubsub")
    parser.add_argument("--server", choices=sorted(SERVERS), default="uvicorn")  # the Procfile's
    parser.add_argument("--ws", choices=["websockets", "websockets-sansio"], default="websockets",
                        help="uvicorn's WebSocket implementation")  # fmt: skip
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--freshness", action="store_true", help="end-to-end: the real sync's path (see above)")
    parser.add_argument("--players", type=int, default=2000, help="freshness: players in the feed")
    parser.add_argument("--changed", type=int, default=200, help="freshness: players who wagered more each round")
    parser.add_argument("--gap", type=float, help="seconds between rounds (default 0.5; freshness 1.5)")
    args = parser.parse_args()
    if args.gap is None:
        args.gap = 1.5 if args.freshness else 0.5
    # Pub/sub channels are shared by every database number of a Redis server: names of this run's own.
    args.baseline_channel = f"bench-baseline-{os.getpid()}"

    print(production.SETTINGS_LINE)
    print(f"machine: {os.cpu_count()} cores, {_load()}", flush=True)
    database = f"{DATABASE}_freshness" if args.freshness else DATABASE
    env = {
        **os.environ, **production.ENV, "REDIS_URL": args.redis, "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}", "CHANNEL_LAYER_KIND": args.layer,
        "CHANNEL_LAYER_PREFIX": f"bench-fanout-{os.getpid()}",
    }  # fmt: skip
    server = None
    if args.freshness:
        server = feed_server_start()
        env.update({"AFFILIATE_API_URL": f"http://127.0.0.1:{server.server_address[1]}/feed",
                    "AFFILIATE_API_TOKEN": "bench"})  # fmt: skip
    os.environ.update(env)  # this process runs Django too (the sync, the sends): the same settings
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")
    sys.path.insert(0, str(ROOT))
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {database}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    import redis

    from core import realtime

    fresh = None
    if args.freshness:
        fresh = Freshness(args, server)
        fresh.sync(0)  # the first sync creates the players; a second warms this process's sync path up
        fresh.sync(args.changed)
        time.sleep(1.1)  # past the coalescing window of those syncs' events
        publish = fresh.round
        what = (f"{args.rounds} syncs of a {args.players:,}-player feed, {args.changed} changed each "
                f"(in-process sync_wagers, {args.gap} s apart)")  # fmt: skip
    else:
        publish = lambda t: realtime.send("leaderboard", "leaderboard.updated", sent_at=t)  # noqa: E731
        what = f"{args.rounds} events"
    procs, ports = start_servers(args.servers, env, server=args.server, ws=args.ws)
    try:
        print(f"WebSocket {'freshness' if args.freshness else 'fan-out'} ({args.layer} layer): {args.clients} "
              f"sockets over {args.servers} {args.server} processes, {what}", flush=True)  # fmt: skip
        ws = measure("websocket", args, ports, publish)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        if server is not None:
            server.shutdown()
    print(f"Raw Redis pub/sub baseline: {args.clients} subscribers, {args.rounds} messages", flush=True)
    publisher = redis.Redis.from_url(args.redis)
    message = {"type": "leaderboard.updated"}
    base = measure(
        "redis",
        args,
        [],
        lambda t: publisher.publish(args.baseline_channel, json.dumps({**message, "sent_at": t})),
    )
    print(f"machine after the run: {_load()}")
    if fresh is not None:
        freshness_report(fresh, ws, base, args)
    else:
        fanout_report(ws, base, args)


if __name__ == "__main__":
    main()
