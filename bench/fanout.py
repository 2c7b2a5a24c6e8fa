"""WebSocket fan-out benchmark: 1,000 clients over 2 daphne processes with the Redis channel layer.

    .venv/bin/python bench/fanout.py [--clients 1000] [--rounds 20] [--redis redis://127.0.0.1:6379/13]

Each round, this process sends one `leaderboard.updated` event through `core.realtime.send` (what a sync
does after commit) with the send time in it; every client records when it arrived. The baseline, in the same
run: the same number of raw Redis pub/sub subscribers and the same number of published messages. Prints
p50/p99 delivery delay of both and their ratio. Figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_servers(count: int, env: dict) -> tuple[list[subprocess.Popen], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        port = free_port()
        cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "goatedvips.asgi:application"]
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


async def websocket_round_trip(ports: list[int], clients: int, rounds: int) -> list[float]:
    import aiohttp
    from asgiref.sync import sync_to_async

    from core import realtime

    delays: list[float] = []
    sockets = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for i in range(clients):
            port = ports[i % len(ports)]
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{port}/ws/leaderboard/", headers={"Origin": f"http://127.0.0.1:{port}"}
            )
            await ws.receive()  # snapshot
            sockets.append(ws)
        print(f"  {len(sockets)} WebSocket clients connected", flush=True)

        async def listen(ws):
            for _ in range(rounds):
                message = await ws.receive()
                received = time.time()
                delays.append(received - json.loads(message.data)["sent_at"])

        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        for _ in range(rounds):
            await sync_to_async(realtime.send)("leaderboard", "leaderboard.updated", sent_at=time.time())
            await asyncio.sleep(0.5)
        await asyncio.wait_for(asyncio.gather(*listeners), 60)
        for ws in sockets:
            await ws.close()
    return delays


async def redis_baseline(redis_url: str, clients: int, rounds: int) -> list[float]:
    import redis.asyncio as redis

    delays: list[float] = []
    conns, pubsubs = [], []
    for _ in range(clients):
        conn = redis.Redis.from_url(redis_url)
        ps = conn.pubsub()
        await ps.subscribe("bench-baseline")
        await ps.get_message(timeout=5)  # subscribe confirmation
        conns.append(conn)
        pubsubs.append(ps)

    async def listen(ps):
        got = 0
        while got < rounds:
            message = await ps.get_message(ignore_subscribe_messages=True, timeout=30)
            if message is None:
                continue
            delays.append(time.time() - json.loads(message["data"])["sent_at"])
            got += 1

    listeners = [asyncio.create_task(listen(ps)) for ps in pubsubs]
    publisher = redis.Redis.from_url(redis_url)
    for _ in range(rounds):
        await publisher.publish("bench-baseline", json.dumps({"type": "leaderboard.updated", "sent_at": time.time()}))
        await asyncio.sleep(0.5)
    await asyncio.wait_for(asyncio.gather(*listeners), 60)
    for ps, conn in zip(pubsubs, conns, strict=True):
        await ps.aclose()
        await conn.aclose()
    await publisher.aclose()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    database = ROOT / "var" / "bench-fanout.sqlite3"
    database.parent.mkdir(exist_ok=True)
    env = {**os.environ, "REDIS_URL": args.redis, "DATABASE_URL": f"sqlite:///{database}", "LOG_LEVEL": "WARNING"}
    os.environ.update({k: env[k] for k in ("REDIS_URL", "DATABASE_URL", "LOG_LEVEL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()

    procs, ports = start_servers(args.servers, env)
    try:
        print(f"WebSocket fan-out: {args.clients} clients over {args.servers} daphne processes, {args.rounds} events")
        ws = asyncio.run(websocket_round_trip(ports, args.clients, args.rounds))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    print(f"Raw Redis pub/sub baseline: {args.clients} subscribers, {args.rounds} messages")
    base = asyncio.run(redis_baseline(args.redis, args.clients, args.rounds))

    print()
    print(f"{'':<24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'deliveries':>12}")
    for name, values in (("channels (websocket)", ws), ("raw redis pub/sub", base)):
        p50, p99 = pct(values, 0.50) * 1000, pct(values, 0.99) * 1000
        print(f"{name:<24}{p50:>10.1f}{p99:>10.1f}{max(values) * 1000:>10.1f}{len(values):>12}")
    print()
    ratio = pct(ws, 0.99) / max(pct(base, 0.99), 1e-9)
    print(f"p99 channels: {pct(ws, 0.99) * 1000:.0f} ms (target <= 1000 ms); p99 ratio to baseline: {ratio:.1f}x "
          f"(target <= 3x); median {statistics.median(ws) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
