"""Snapshots on request are bounded: per socket in how often they are read, and a thread's in how much it sends."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from core import consumers
from races import consumers as race_consumers
from support.consumers import SNAPSHOT_MESSAGES
from support.models import SupportTicket, TicketMessage
from tests.factories import UserFactory
from tests.realtime.test_consumers import connect

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leaderboard_reads(monkeypatch) -> list[str]:
    """Every leaderboard snapshot read (each one reads the database or the cache)."""
    reads: list[str] = []
    real = race_consumers.leaderboard_page

    def counted(period, limit, offset):
        reads.append(period)
        return real(period, limit, offset)

    monkeypatch.setattr(race_consumers, "leaderboard_page", counted)
    return reads


async def test_a_flood_of_snapshot_requests_is_folded_into_one_extra_read(monkeypatch, leaderboard_reads):
    # An interval far longer than sending 500 requests takes on a loaded machine (with 0.5 s, the flood could
    # straddle two intervals and be folded into two reads: seen on CI with four test runs on two cores).
    monkeypatch.setattr(consumers, "SNAPSHOT_EVERY", 3.0)
    ws, first = await connect("/ws/leaderboard/")
    assert first["type"] == "snapshot"
    for _ in range(500):
        await ws.send_json_to({"type": "snapshot"})
    answered = await ws.receive_json_from(timeout=5)  # the first request, at once
    folded = await ws.receive_json_from(timeout=10)  # the other 499, once the interval is over
    assert answered["type"] == folded["type"] == "snapshot"
    assert folded["version"] > answered["version"]
    assert await ws.receive_nothing(timeout=0.8)
    assert len(leaderboard_reads) == 3  # connect, the first request, the folded rest (was 501)
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"  # a flood never closes the socket
    await ws.disconnect()


async def test_a_reconnecting_client_that_asks_once_gets_its_snapshot_at_once(leaderboard_reads):
    for _ in range(2):  # connect, ask, drop, reconnect, ask again: each socket's first request is answered now
        ws, first = await connect("/ws/leaderboard/?period=weekly")
        assert first["type"] == "snapshot"
        await ws.send_json_to({"type": "snapshot"})
        assert (await ws.receive_json_from(timeout=1))["type"] == "snapshot"  # well before SNAPSHOT_EVERY
        await ws.disconnect()
    assert len(leaderboard_reads) == 4


def _long_thread(owner, messages: int) -> SupportTicket:
    ticket = SupportTicket.objects.create(user=owner, subject="Long", description="A long story")
    now = timezone.now()
    TicketMessage.objects.bulk_create(
        TicketMessage(ticket=ticket, author=owner, body=f"{i} " + "x" * 4990, created_at=now) for i in range(messages)
    )
    return ticket


async def test_a_long_threads_snapshot_carries_only_its_latest_messages():
    owner = await sync_to_async(UserFactory)(username="talker")
    ticket = await sync_to_async(_long_thread)(owner, 300)  # 1.5 MB of messages
    ws, _ = await connect(f"/ws/support/{ticket.pk}/", owner)
    await ws.send_json_to({"type": "snapshot"})
    text = (await ws.receive_output(timeout=5))["text"]
    assert len(text.encode()) < (SNAPSHOT_MESSAGES + 5) * 5_200  # about 260 KB at most, whatever the thread's length
    data = json.loads(text)["data"]
    numbers = [int(m["body"].split()[0]) for m in data["messages"]]
    assert numbers == list(range(300 - SNAPSHOT_MESSAGES, 300))  # the latest, oldest first
    assert (data["messages_total"], data["more"]) == (300, True)
    await ws.disconnect()
