"""`/ws/raffles/<id>/` through the real ASGI stack: a snapshot of the tickets, then the raffle's events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_draw, raffle_enter, raffle_open
from tests.factories import PlayerFactory, UserFactory
from tests.realtime.test_consumers import connect

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _giveaway_with_one_entry() -> tuple[Raffle, object]:
    now = timezone.now()
    raffle = Raffle.objects.create(title="Socket giveaway", starts_at=now - timedelta(hours=1),
                                   ends_at=now + timedelta(hours=1), prize_pool=Decimal("10"),
                                   ticket_wager=Decimal("0"))  # fmt: skip
    raffle_open(raffle.pk)
    RaffleEntry.objects.create(raffle=raffle, player=PlayerFactory(uid="first", name="First"), baseline_all_time=0,
                               measured=0, tickets=1)  # fmt: skip
    user = UserFactory(email_verified=True, verification_status="verified", player=PlayerFactory(uid="second"))
    return raffle, user


async def test_a_raffle_socket_sends_tickets_then_an_event_when_someone_enters_and_when_it_is_drawn():
    raffle, user = await sync_to_async(_giveaway_with_one_entry)()
    ws, snapshot = await connect(f"/ws/raffles/{raffle.pk}/")
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["leaders"] == [{"uid": "first", "name": "First", "tickets": 1}]
    assert snapshot["data"]["status"] == "open"
    await sync_to_async(raffle_enter)(raffle.pk, user)
    assert (await ws.receive_json_from(timeout=5))["type"] == "raffle.updated"
    await sync_to_async(raffle_draw)(raffle.pk, now=raffle.ends_at + timedelta(seconds=1))
    assert (await ws.receive_json_from(timeout=5))["type"] == "raffle.drawn"
    await ws.disconnect()


async def test_an_unknown_raffle_socket_is_closed():
    _ws, answer = await connect("/ws/raffles/999999/")
    assert "closed" in answer
