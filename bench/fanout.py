"""WebSocket fan-out benchmark: sockets over several daphne processes with the Redis channel layer, against raw
Redis pub/sub, in one run.

    .venv/bin/python bench/fanout.py [--clients 1000] [--servers 2] [--client-procs 2] [--rounds 20]
                                     [--layer pubsub|core] [--redis redis://127.0.0.1:6379/13]

Each round, this process sends one `leaderboard.updated` event through `core.realtime.send` (what a sync does
after commit) with the send time in it; every socket records when it arrived. The sockets are held by
`--client-procs` processes so the load generator does not dominate. The baseline, in the same run: the same
number of raw Redis pub/sub subscribers (held by the same number of processes) and the same number of published
messages. Prints p50/p99 delivery delay of both, the ratio, and pass/fail against the targets (issue 18: p99
<= 300 ms and <= 2x the baseline for 1,000 sockets over 2 processes). `--layer` picks the channel layer
(CHANNEL_LAYER_KIND): `pubsub` (one PUBLISH per event, each process fans out to its own sockets) or `core`
(channels-redis's list-based layer: one message per socket). Figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import production  # bench/production.py: the production configuration every bench runs

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE = "goatedvips_bench_fanout"
P99_TARGET_MS = 300
RATIO_TARGET = 2.0


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


# --- load-generator processes ----------------------------------------------------------------------------------


async def _sockets(ports: list[int], count: int, offset: int, rounds: int, ready, out) -> None:
    import aiohttp

    delays: list[float] = []
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
                sent_at = json.loads(message.data)["sent_at"]
                delays.append((sent_at, time.time() - sent_at))

        await asyncio.wait_for(asyncio.gather(*(listen(ws) for ws in sockets)), 120)
        for ws in sockets:
            await ws.close()
    out.put(delays)


async def _subscribers(redis_url: str, count: int, rounds: int, ready, out) -> None:
    import redis.asyncio as redis

    delays: list[float] = []
    conns, pubsubs = [], []
    for _ in range(count):
        conn = redis.Redis.from_url(redis_url)
        ps = conn.pubsub()
        await ps.subscribe("bench-baseline")
        await ps.get_message(timeout=5)  # subscribe confirmation
        conns.append(conn)
        pubsubs.append(ps)
    ready.put(count)

    async def listen(ps):
        got = 0
        while got < rounds:
            message = await ps.get_message(ignore_subscribe_messages=True, timeout=30)
            if message is not None:
                sent_at = json.loads(message["data"])["sent_at"]
                delays.append((sent_at, time.time() - sent_at))
                got += 1

    await asyncio.wait_for(asyncio.gather(*(listen(ps) for ps in pubsubs)), 120)
    for ps, conn in zip(pubsubs, conns, strict=True):
        await ps.aclose()
        await conn.aclose()
    out.put(delays)


def _run(coroutine_factory, *args) -> None:
    asyncio.run(coroutine_factory(*args))


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure(kind: str, args, ports: list[int], publish) -> list[float]:
    """Start the client processes, wait until every socket/subscriber is in, publish the rounds, gather."""
    ready, out = multiprocessing.Queue(), multiprocessing.Queue()
    procs, offset = [], 0
    for count in _spread(args.clients, args.client_procs):
        target_args = (
            (_sockets, ports, count, offset, args.rounds, ready, out)
            if kind == "websocket"
            else (_subscribers, args.redis, count, args.rounds, ready, out)
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
        time.sleep(0.5)
    print(f"  publishing took (ms): {', '.join(f'{v:.0f}' for v in publish_ms)}", flush=True)
    pairs = [d for _ in procs for d in out.get(timeout=180)]
    for proc in procs:
        proc.join(10)
    by_round: dict[float, list[float]] = {}
    for sent_at, delay in pairs:
        by_round.setdefault(sent_at, []).append(delay)
    worst = ", ".join(f"{max(v) * 1000:.0f}" for _, v in sorted(by_round.items()))
    print(f"  slowest delivery of each round (ms): {worst}", flush=True)
    return [delay for _, delay in pairs]


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
    args = parser.parse_args()

    print(production.SETTINGS_LINE)
    env = {
        **os.environ, **production.ENV, "REDIS_URL": args.redis, "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}", "CHANNEL_LAYER_KIND": args.layer,
    }  # fmt: skip
    os.environ.update({k: env[k] for k in ("REDIS_URL", "DATABASE_URL", "LOG_LEVEL", "CHANNEL_LAYER_KIND",
                                           *production.ENV)})  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")
    sys.path.insert(0, str(ROOT))
    subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    import redis

    from core import realtime

    procs, ports = start_servers(args.servers, env, server=args.server, ws=args.ws)
    try:
        print(f"WebSocket fan-out ({args.layer} layer): {args.clients} sockets over {args.servers} {args.server} "
              f"processes, "
              f"{args.rounds} events")  # fmt: skip
        ws = measure("websocket", args, ports, lambda t: realtime.send("leaderboard", "leaderboard.updated", sent_at=t))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    print(f"Raw Redis pub/sub baseline: {args.clients} subscribers, {args.rounds} messages")
    publisher = redis.Redis.from_url(args.redis)
    message = {"type": "leaderboard.updated"}
    base = measure(
        "redis", args, [], lambda t: publisher.publish("bench-baseline", json.dumps({**message, "sent_at": t}))
    )

    print()
    print(f"{'':<24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'deliveries':>12}")
    for name, values in (("channels (websocket)", ws), ("raw redis pub/sub", base)):
        p50, p99 = pct(values, 0.50) * 1000, pct(values, 0.99) * 1000
        print(f"{name:<24}{p50:>10.1f}{p99:>10.1f}{max(values) * 1000:>10.1f}{len(values):>12}")
    print()
    p99 = pct(ws, 0.99) * 1000
    ratio = pct(ws, 0.99) / max(pct(base, 0.99), 1e-9)
    print(f"p99 channels: {p99:.0f} ms (target <= {P99_TARGET_MS} ms) {'PASS' if p99 <= P99_TARGET_MS else 'FAIL'}")
    print(f"p99 ratio to raw pub/sub: {ratio:.2f}x (target <= {RATIO_TARGET:.0f}x) "
          f"{'PASS' if ratio <= RATIO_TARGET else 'FAIL'}")  # fmt: skip
    expected = args.clients * args.rounds
    print(f"deliveries: {len(ws)} of {expected} {'PASS' if len(ws) == expected else 'FAIL'}")


if __name__ == "__main__":
    main()
