"""The steps of bench/chaos.py: each injects one fault, waits a bounded time and checks what must hold."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass

import psycopg

SYNC_LOCK_ID = 0x60A7ED  # races/feed/lock.py
SYNC_INTERVAL = 10  # SYNC_INTERVAL_SECONDS of bench/load.py's topology environment


@dataclass
class Context:
    topology: object
    pg: object
    redis: object
    load: object
    args: object
    web_ports: dict
    database: str
    Step: type
    failed: object

    def seconds(self, short: float, full: float) -> float:
        return short if self.args.short else full


def query(ctx: Context, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(ctx.pg.url(ctx.database), autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


async def readyz(port: int) -> tuple[int | str, dict]:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            timeout = aiohttp.ClientTimeout(total=8)
            async with session.get(f"http://127.0.0.1:{port}/readyz", timeout=timeout) as response:
                return response.status, await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return type(exc).__name__, {}


async def all_ready(ctx: Context, within: float) -> float | None:
    """Seconds until /readyz of every web process answers 200 (None if not within the bound)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        answers = await asyncio.gather(*(readyz(port) for port in ctx.web_ports.values()))
        if all(status == 200 for status, _body in answers):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


def summarise(ctx: Context, step, requests: list) -> None:
    step.sent = len(requests)
    step.failed = sum(ctx.failed(outcome) for _s, _e, outcome in requests)


async def kill_web(ctx: Context):
    step = ctx.Step("kill -9 web")
    stats = ctx.load.stats
    opened, dropped, fresh = stats.sockets_opened, stats.sockets_dropped, stats.sockets_snapshot_first
    killed_at = time.monotonic()
    await asyncio.to_thread(ctx.topology.kill, "web2")
    await asyncio.sleep(ctx.seconds(6, 15))
    around = [r for r in stats.requests if r[1] >= killed_at - 1]  # ended after the kill (or just before)
    summarise(ctx, step, ctx.load.window(killed_at))
    in_flight = [r for r in around if r[0] < killed_at and ctx.failed(r[2])]
    after = [r for r in around if r[0] >= killed_at and ctx.failed(r[2])]
    failures = in_flight + after
    step.failed = len(failures)
    step.recovery = max((r[1] - killed_at for r in failures), default=0.0)
    step.check("no request started after the kill failed", not after, f"{len(after)} failed, {len(in_flight)} in "
               f"flight at the kill failed, {step.sent} sent")  # fmt: skip
    step.check("nginx routed around it within 2 s", step.recovery <= 2.0, f"last failure {step.recovery:.2f} s after")
    lost, reopened = stats.sockets_dropped - dropped, stats.sockets_opened - opened
    step.check("the sockets it held reconnected", reopened >= lost, f"{lost} dropped, {reopened} opened again")
    snapshots = stats.sockets_snapshot_first - fresh
    step.check("each socket opened again got a fresh snapshot first", snapshots >= reopened,
               f"{snapshots} of {reopened}")  # fmt: skip
    await asyncio.to_thread(ctx.topology.start, "web2")
    back = await all_ready(ctx, 60)
    step.check("the web process serves again once started", back is not None, f"ready after {back or 0:.1f} s")
    await asyncio.sleep(6)  # nginx's fail_timeout (5 s): it tries the process again after that
    return step


async def restart_postgres(ctx: Context):
    step = ctx.Step("restart PostgreSQL")
    pids = ctx.topology.pids()
    stopped_at = time.monotonic()
    await asyncio.to_thread(ctx.pg.stop, "fast")
    down = ctx.seconds(8, 20)
    await asyncio.sleep(down / 2)
    while_down = await asyncio.gather(*(readyz(port) for port in ctx.web_ports.values()))
    await asyncio.sleep(down / 2)
    await asyncio.to_thread(ctx.pg.start)
    back_at = time.monotonic()
    ready = await all_ready(ctx, 30)
    step.recovery = ready if ready is not None else 30.0
    await asyncio.sleep(ctx.seconds(4, 10))
    requests = ctx.load.window(stopped_at)
    summarise(ctx, step, requests)
    slowest = max((e - s for s, e, _o in requests), default=0.0)
    step.check("every request answered within 5 s", slowest <= 5.0, f"slowest {slowest:.2f} s")
    wrong = sorted({str(o) for _s, _e, o in requests if ctx.failed(o) and o != 503})
    step.check("failures were 503, never a 500 or a dropped connection", not wrong, ", ".join(wrong) or
               f"{step.failed} answered 503")  # fmt: skip
    named = all(status == 503 and "database" in body.get("failing", []) for status, body in while_down)
    step.check("/readyz named the database while it was down", named, str([s for s, _b in while_down]))
    step.check("/readyz recovered within 30 s of PostgreSQL", ready is not None, f"{step.recovery:.1f} s")
    step.check("no process was restarted", ctx.topology.pids() == pids, "same pids, all running")
    later = [r for r in requests if r[0] >= back_at + step.recovery + 1]
    late_failures = sum(ctx.failed(o) for _s, _e, o in later)
    step.check("requests after recovery succeeded", late_failures == 0, f"{late_failures} of {len(later)} failed")
    return step


def _sync_rows_since(ctx: Context, since: str) -> int:
    sql = "SELECT count(*) FROM races_transformationlog WHERE payload->>'kind' = 'sync' AND created_at > %s"
    return query(ctx, sql, (since,))[0][0]


async def second_beat(ctx: Context):
    step = ctx.Step("second beat")
    started = time.monotonic()
    (since,) = query(ctx, "SELECT now()::text")[0]
    second = ctx.topology.commands["beat"].replace("beat-schedule", "beat2-schedule")
    await asyncio.to_thread(ctx.topology.start, "beat2", second)
    window = ctx.seconds(30, 60)
    await asyncio.sleep(window)
    syncs = await asyncio.to_thread(_sync_rows_since, ctx, since)
    allowed = int(window // SYNC_INTERVAL) + 1
    step.check("no more syncs than one beat sends", syncs <= allowed, f"{syncs} syncs in {window:.0f} s "
               f"(one beat: at most {allowed}, two: about {2 * (allowed - 1)})")  # fmt: skip
    step.check("the syncs went on", syncs >= allowed - 2, f"{syncs} in {window:.0f} s")
    took_over = await _next_sync_after(ctx, lambda: ctx.topology.kill("beat"), within=SYNC_INTERVAL + 20)
    step.recovery = took_over if took_over is not None else SYNC_INTERVAL + 20
    step.check("after kill -9 of the first beat the second syncs", took_over is not None,
               f"first sync {step.recovery:.1f} s after")  # fmt: skip
    summarise(ctx, step, ctx.load.window(started))
    return step


def _players_state(conn) -> tuple:
    return (
        conn.execute("SELECT count(*), coalesce(sum(wager_all_time), 0), max(updated_at) FROM races_player").fetchone()
        + conn.execute("SELECT count(*) FROM races_transformationlog").fetchone()
    )


def _catch_sync_in_transaction(ctx: Context, hold: float) -> tuple[tuple | None, int | None, object]:
    """Hold the log table so that the next sync waits inside its transaction, its players already written (the log
    row is its last write); return the state before it, the waiting backend and the open connection."""
    conn = psycopg.connect(ctx.pg.url(ctx.database), connect_timeout=5)
    conn.execute("LOCK TABLE races_transformationlog IN SHARE MODE")
    state = _players_state(conn)
    deadline = time.monotonic() + hold
    with psycopg.connect(ctx.pg.url(ctx.database), autocommit=True) as watch:
        while time.monotonic() < deadline:
            row = watch.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'INSERT INTO \"races_transformationlog\"%%'"
            ).fetchone()
            if row:
                return state, row[0], conn
            time.sleep(0.2)
    return state, None, conn


async def kill_worker(ctx: Context):
    step = ctx.Step("kill -9 worker")
    started = time.monotonic()
    before, backend, holder = await asyncio.to_thread(_catch_sync_in_transaction, ctx, SYNC_INTERVAL * 3 + 10)
    step.check("a sync was caught inside its transaction", backend is not None, f"backend {backend}")
    await asyncio.to_thread(ctx.topology.kill, "worker")
    await asyncio.to_thread(holder.rollback)  # the table is free again: the orphaned statement goes on and dies
    holder.close()
    gone = None
    for _ in range(40):
        rows = await asyncio.to_thread(query, ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,))
        if not rows[0][0]:
            gone = True
            break
        await asyncio.sleep(0.25)
    step.check("its database session ended (transaction rolled back)", gone, f"backend {backend}")
    with psycopg.connect(ctx.pg.url(ctx.database), autocommit=True) as conn:
        after = _players_state(conn)
        locked = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                              (SYNC_LOCK_ID,)).fetchone()[0]  # fmt: skip
    step.check("nothing half-written: players and logs as before", after == before,
               f"{after[0]} players, wagers {after[1]:.2f}, {after[3]} logs; before {before[0]}, {before[1]:.2f}, "
               f"{before[3]}")  # fmt: skip
    step.check("the sync lock was freed", locked == 0, f"{locked} holders")
    synced = await _next_sync_after(ctx, lambda: ctx.topology.start("worker"), within=SYNC_INTERVAL + 40)
    step.recovery = synced if synced is not None else SYNC_INTERVAL + 40
    step.check("the next beat tick synced", synced is not None, f"{step.recovery:.1f} s after the restart")
    summarise(ctx, step, ctx.load.window(started))
    return step


async def restart_redis(ctx: Context):
    step = ctx.Step("restart Redis")
    pids = ctx.topology.pids()
    duplicates = ctx.load.stats.socket_duplicates
    stopped_at = time.monotonic()
    await asyncio.to_thread(ctx.redis.stop)
    down = ctx.seconds(8, 20)
    await asyncio.sleep(down / 2)
    while_down = await asyncio.gather(*(readyz(port) for port in ctx.web_ports.values()))
    await asyncio.sleep(down / 2)
    await asyncio.to_thread(ctx.redis.start)
    ready = await all_ready(ctx, 30)
    step.recovery = ready if ready is not None else 30.0
    back_at = time.monotonic()
    await asyncio.sleep(ctx.seconds(4, 10))
    resumed = await _event_after(ctx, back_at, within=2 * SYNC_INTERVAL)
    requests = ctx.load.window(stopped_at)
    summarise(ctx, step, requests)
    outcomes = Counter(str(o) for _s, _e, o in requests if ctx.failed(o))
    step.check("pages and the API kept answering", step.failed == 0,
               f"{step.failed} of {step.sent} failed {dict(outcomes) if outcomes else ''}")  # fmt: skip
    named = all(status == 503 and "channel_layer" in body.get("failing", []) for status, body in while_down)
    step.check("/readyz named the channel layer while Redis was down", named, str([s for s, _b in while_down]))
    step.check("/readyz recovered within 30 s of Redis", ready is not None, f"{step.recovery:.1f} s")
    step.check("no process was restarted", ctx.topology.pids() == pids, "same pids, all running")
    twice = query(ctx, "SELECT count(*) FROM (SELECT race_id FROM races_raceresult GROUP BY race_id, rank "
                       "HAVING count(*) > 1) AS d")[0][0]  # fmt: skip
    step.check("no race finalized twice (one result per race and rank)", twice == 0, f"{twice} duplicates")
    step.check("sockets resumed: a sync's event reached them after Redis was back", resumed is not None,
               f"{resumed or 0:.1f} s after /readyz recovered")  # fmt: skip
    again = ctx.load.stats.socket_duplicates - duplicates
    step.check("no message was sent twice (no socket got one event twice)", again == 0, f"{again} duplicates")
    return step


async def _next_sync_after(ctx: Context, fault, within: float) -> float | None:
    """Seconds from `fault()` (run in a thread) to the first sync log row written after it, or None within
    `within` seconds."""
    (since,) = query(ctx, "SELECT now()::text")[0]
    started = time.monotonic()
    await asyncio.to_thread(fault)
    while time.monotonic() - started < within:
        if await asyncio.to_thread(_sync_rows_since, ctx, since):
            return time.monotonic() - started
        await asyncio.sleep(1)
    return None


async def _event_after(ctx: Context, moment: float, within: float) -> float | None:
    """Seconds from `moment` to the first socket event after it (the beat syncs every SYNC_INTERVAL seconds)."""
    deadline = moment + within
    while time.monotonic() < deadline:
        later = [t for t in ctx.load.stats.socket_event_times if t > moment]
        if later:
            return min(later) - moment
        await asyncio.sleep(0.5)
    return None


async def _direct(port: int, path: str) -> int | str:
    """A request straight to one web process, as nginx sends it (HTTPS reported, so no redirect)."""
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            headers = {"X-Forwarded-Proto": "https"}
            timeout = aiohttp.ClientTimeout(total=8)
            async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=timeout) as response:
                await response.read()
                return response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__


async def log_unwritable(ctx: Context):
    step = ctx.Step("log on /dev/full")
    port = ctx.web_ports["web2"]
    await asyncio.to_thread(ctx.topology.kill, "web2", signal.SIGTERM)
    full = f"{ctx.topology.commands['web2']} >/dev/full 2>&1"
    await asyncio.to_thread(ctx.topology.start, "web2", full)
    back = await all_ready(ctx, 60)
    step.check("the process starts with its log on /dev/full", back is not None, f"ready after {back or 0:.1f} s")
    await asyncio.sleep(6)  # nginx's fail_timeout: web2 takes its share of the load again
    started, answers = time.monotonic(), Counter()
    while time.monotonic() - started < ctx.seconds(10, 30):
        # A missing page is a WARNING line (django.request) and an error a traceback: both written to /dev/full.
        for path, expected in (("/chaos-no-such-page/", 404), ("/leaderboard/", 200), ("/api/v1/races/current/", 200)):
            answers[(path, await _direct(port, path) == expected)] += 1
        await asyncio.sleep(0.2)
    wrong = {path: n for (path, ok), n in answers.items() if not ok}
    step.check("it answered every request, logging or not", not wrong, f"{sum(answers.values())} direct, wrong: "
               f"{wrong or 0}")  # fmt: skip
    requests = ctx.load.window(started)
    summarise(ctx, step, requests)
    step.check("nothing else degraded: no request through nginx failed", step.failed == 0,
               f"{step.failed} of {step.sent} failed")  # fmt: skip
    step.check("the process is still running", ctx.topology.pids().get("web2") is not None, "web2")
    await asyncio.to_thread(ctx.topology.kill, "web2", signal.SIGTERM)
    await asyncio.to_thread(ctx.topology.start, "web2")
    await all_ready(ctx, 60)
    return step


STEPS = {
    "kill-web": kill_web,
    "restart-postgres": restart_postgres,
    "second-beat": second_beat,
    "kill-worker": kill_worker,
    "restart-redis": restart_redis,
    "log-unwritable": log_unwritable,
}
