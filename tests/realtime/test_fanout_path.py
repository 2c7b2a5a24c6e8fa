"""The fan-out path of one web process: a group event is decoded and encoded once, whatever the socket count."""

from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import sync_to_async

from core import consumers
from core.layers import PubSubChannelLayer
from races import realtime as race_realtime
from tests.realtime.servers import REDIS_FOR_SERVERS
from tests.realtime.test_consumers import connect


def _layer() -> PubSubChannelLayer:
    return PubSubChannelLayer(
        hosts=[{"address": REDIS_FOR_SERVERS, "socket_timeout": None}], prefix=f"test-{uuid.uuid4().hex[:8]}"
    )


@pytest.mark.asyncio
async def test_every_local_socket_of_a_group_gets_one_decoded_message_from_real_redis():
    layer = _layer()
    try:
        channels = [await layer.new_channel() for _ in range(3)]
        for name in channels:
            await layer.group_add("fanout-test", name)
        await layer.group_send("fanout-test", {"type": "leaderboard.updated", "version": 1, "sent_at": 2.5})
        received = [await layer.receive(name) for name in channels]
        assert received[0] == {"type": "leaderboard.updated", "version": 1, "sent_at": 2.5}
        assert received[1] is received[0]
        assert received[2] is received[0]
        await layer.group_send("fanout-test", {"type": "leaderboard.updated", "version": 2, "sent_at": 3.5})
        later = [await layer.receive(name) for name in channels]
        assert later[0]["version"] == 2
        assert all(message is later[0] for message in later)
        assert received[0]["version"] == 1  # the earlier message is untouched
    finally:
        await layer.flush()


def test_a_new_payload_is_decoded_again_even_when_equal():
    layer = _layer()
    payload = layer.serialize({"type": "race.updated", "version": 7})
    first = layer.deserialize(payload)
    assert layer.deserialize(payload) is first
    again = layer.deserialize(bytes(bytearray(payload)))  # the same bytes in a new object: a new message
    assert again == first
    assert again is not first


def test_an_event_is_encoded_once_and_a_different_event_again():
    event = {"type": "notification", "version": 3, "notification": {"title": "Ünïcode <b>"}}
    text = consumers._encoded(event)
    assert json.loads(text) == event
    assert text == json.dumps(event)  # what channels' send_json sent
    assert consumers._encoded(event) is text
    equal = dict(event)
    assert consumers._encoded(equal) == text
    changed = {**event, "version": 4}
    assert json.loads(consumers._encoded(changed))["version"] == 4


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_get_the_snapshot_then_the_same_event_text_and_still_answer_pings():
    sockets = [await connect("/ws/leaderboard/") for _ in range(3)]
    assert all(snapshot["type"] == "snapshot" for _ws, snapshot in sockets)
    await sync_to_async(race_realtime.leaderboard_updated_announce)()
    texts = [(await ws.receive_output(timeout=5))["text"] for ws, _snapshot in sockets]
    assert len(set(texts)) == 1
    event = json.loads(texts[0])
    assert event["type"] == "leaderboard.updated"
    assert all(event["version"] > snapshot["version"] for _ws, snapshot in sockets)
    # A client message is still answered while events are relayed by the layer-reading task.
    ws, _snapshot = sockets[0]
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
    for ws, _snapshot in sockets:
        await ws.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_closed_by_the_server_is_sent_no_more_events():
    from accounts.services import user_set_active
    from tests.factories import UserFactory

    user = await sync_to_async(UserFactory)(username="leaving")
    ws, snapshot = await connect("/ws/leaderboard/", user)
    assert snapshot["type"] == "snapshot"
    await sync_to_async(user_set_active)(user, active=False, actor=None)
    closed = await ws.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    # The client has not gone yet: an event for its group must not follow the close (servers refuse it).
    await sync_to_async(race_realtime.leaderboard_updated_announce)()
    assert await ws.receive_nothing(timeout=0.5)
