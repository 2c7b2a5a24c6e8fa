"""Two web processes (the Procfile's uvicorn) on real Redis; a sync in a third process reaches clients of both."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import pytest

from tests.realtime.servers import child_env, free_port, manage, next_json, web_servers, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sync_in_a_third_process_reaches_clients_of_two_servers_even_after_10_s_idle():
    env = child_env()
    with web_servers(2, env) as ports:

        async def scenario():
            async with aiohttp.ClientSession() as session:
                clients = [await ws_connect(session, port, "/ws/leaderboard/") for port in ports]
                for ws in clients:
                    assert (await next_json(ws))["type"] == "snapshot"
                # Idle past redis-py's 5 s socket timeout pitfall: the subscription must survive it.
                await asyncio.sleep(10)
                assert all(not ws.closed for ws in clients)
                sync = await asyncio.to_thread(manage, "sync_wagers", env=env)
                assert sync.returncode == 0, sync.stderr
                events = [await next_json(ws) for ws in clients]
                for ws in clients:
                    await ws.close()
                return events

        events = asyncio.run(scenario())
    assert [e["type"] for e in events] == ["leaderboard.updated", "leaderboard.updated"]
    assert events[0]["version"] == events[1]["version"]


def test_with_redis_down_a_sync_still_commits_and_clients_recover_when_it_returns(tmp_path):
    port = free_port()
    redis = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis += ["--dir", str(tmp_path)]
    server = subprocess.Popen(redis, stdout=subprocess.DEVNULL)
    env = child_env(redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        with web_servers(1, env) as (web,):

            async def scenario():
                nonlocal server
                async with aiohttp.ClientSession() as session:
                    ws = await ws_connect(session, web, "/ws/leaderboard/")
                    assert (await next_json(ws))["type"] == "snapshot"
                    server.terminate()
                    server.wait(10)
                    # Redis is gone: the sync must still commit (its broadcast is logged and dropped).
                    sync = await asyncio.to_thread(manage, "sync_wagers", "-v", "2", env=env)
                    assert sync.returncode == 0, sync.stderr
                    assert "could not send leaderboard.updated" in sync.stderr
                    server = subprocess.Popen(redis, stdout=subprocess.DEVNULL)
                    await asyncio.sleep(1)
                    # The client reconnects (as live.js does) and gets a fresh snapshot with the synced data.
                    for _attempt in range(50):
                        try:
                            again = await ws_connect(session, web, "/ws/leaderboard/")
                            snapshot = await next_json(again)
                            break
                        except (TimeoutError, aiohttp.ClientError, AssertionError):
                            await asyncio.sleep(0.2)
                    await again.close()
                    return snapshot

            snapshot = asyncio.run(scenario())
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["total"] > 0
    finally:
        server.terminate()
        server.wait(10)
