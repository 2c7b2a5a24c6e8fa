"""Real ASGI server processes (the Procfile's web command) sharing this test's database and a Redis channel layer."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

import aiohttp
from django.db import connection

from tests.xdist_redis import layer_prefix

ROOT = Path(__file__).resolve().parents[2]
# The SQLite run's child servers share Redis database 12; with pytest-xdist each worker has a database of its own
# (gw0: 12, gw1: 11, ...), as it has its own SQLite test file. (The PostgreSQL run's workers: 15, 14 and 13, REDIS_URL
# as tests/xdist_redis.py gives it to each.) A run beside it (`make test` runs the browser suite
# at the same time) names another in TEST_SERVERS_REDIS_URL: two runs on one database read each other's cache (a
# cached unread count of one run's user 3 shown to the other's).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_FOR_SERVERS = (
    os.environ.get("REDIS_URL") or os.environ.get("TEST_SERVERS_REDIS_URL") or f"redis://127.0.0.1:6379/{12 - _WORKER}"
)


def session_key_for(user) -> str:
    """A signed-in session for `user`, stored in the shared database (server processes do not share this
    process's fast test password hasher, so signing in through a form would fail there)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for child processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


def child_env(redis_url: str = REDIS_FOR_SERVERS, **extra) -> dict:
    """The environment of server and command processes sharing this test's database. The shared Redis database
    is emptied first: its cache (the cached leaderboards...) must not carry one test's data into the next."""
    if redis_url == REDIS_FOR_SERVERS:
        import redis

        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()
    env = {
        **os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING",
        "CHANNEL_LAYER_PREFIX": layer_prefix(redis_url), **extra,
    }  # fmt: skip
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def web_command(port: int) -> list[str]:
    """The Procfile's `web` command, as production runs it, on 127.0.0.1:<port>."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    words = line.removeprefix("web:").split()
    words = [{"0.0.0.0": "127.0.0.1", "${PORT:-8000}": str(port)}.get(w, w) for w in words]  # noqa: S104
    return [sys.executable, "-m", *words]


@contextmanager
def web_servers(count: int, env: dict):
    """`count` web processes started with the Procfile's command (uvicorn), sharing `env`'s database and Redis."""
    procs, ports = [], []
    try:
        for _ in range(count):
            port = free_port()
            cmd = web_command(port)
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            ports.append(port)
        for port, proc in zip(ports, procs, strict=True):
            wait_until_up(port, proc)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_until_up(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"web server on port {port} did not come up")


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


async def ws_connect(session: aiohttp.ClientSession, port: int, path: str):
    return await session.ws_connect(
        f"ws://127.0.0.1:{port}{path}", headers={"Origin": f"http://127.0.0.1:{port}"}, heartbeat=None
    )


async def next_json(ws, timeout: float = 10) -> dict:
    message = await asyncio.wait_for(ws.receive(), timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return message.json()
