"""The fan-out path of one web process: a group event is decoded and encoded once, whatever the socket count."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

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


# --- the relay's edges, on the shipped layer over real Redis ---------------------------------------------------


@pytest.fixture
def pubsub_layer(settings):
    """The web processes' layer (core.layers.PubSubChannelLayer) on real Redis, in both suites."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.layers.PubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_FOR_SERVERS, "socket_timeout": None}], "prefix": "test-relay"},
        }
    }
    layer = channel_layers["default"]
    yield layer
    async_to_sync(layer.flush)()


class _GatedConsumer(consumers.StreamConsumer):
    """A stream whose snapshots after the first wait for the test to open a gate (a slow database read)."""

    relayed = frozenset({"test.event"})
    gate: asyncio.Event
    reading: asyncio.Event  # set once a later snapshot has started and waits for the gate
    held: asyncio.Event  # set when a relayed event reached the consumer but was held back, not sent
    snapshots = 0

    async def authorize(self) -> int | None:
        self.group = "relay-test"
        return None

    async def snapshot(self) -> dict:
        type(self).snapshots += 1
        if type(self).snapshots > 1:
            type(self).reading.set()
            await type(self).gate.wait()
        return {"n": type(self).snapshots}

    async def _layer_receive(self) -> dict:
        message = await super()._layer_receive()  # returns only what it did not relay itself
        if message.get("type") in self.relayed:
            type(self).held.set()
        return message


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()


def _gated_reset() -> None:
    _GatedConsumer.gate, _GatedConsumer.reading, _GatedConsumer.held = asyncio.Event(), asyncio.Event(), asyncio.Event()
    _GatedConsumer.snapshots = 0


async def _gated() -> WebsocketCommunicator:
    _gated_reset()
    ws = WebsocketCommunicator(_GatedConsumer.as_asgi(), "/ws/relay-test/")
    connected, _ = await ws.connect(timeout=5)
    assert connected
    assert (await ws.receive_json_from(timeout=5))["data"] == {"n": 1}
    return ws


@pytest.mark.asyncio
async def test_events_wait_behind_a_snapshot_the_client_asked_for(pubsub_layer):
    ws = await _gated()
    await ws.send_json_to({"type": "snapshot"})
    assert await _set_within(_GatedConsumer.reading, 5), "the consumer never started reading the snapshot"
    await pubsub_layer.group_send("relay-test", {"type": "test.event", "version": time.time_ns() // 1000})
    assert await _set_within(_GatedConsumer.held, 5), "the event was not held behind the snapshot being read"
    assert await ws.receive_nothing(timeout=0.05)  # not before the snapshot
    _GatedConsumer.gate.set()
    snapshot = await ws.receive_json_from(timeout=5)
    event = await ws.receive_json_from(timeout=5)
    assert (snapshot["type"], snapshot["data"]) == ("snapshot", {"n": 2})
    assert event["type"] == "test.event"
    # And relaying resumes: the next event is sent straight on.
    await pubsub_layer.group_send("relay-test", {"type": "test.event", "version": time.time_ns() // 1000})
    assert (await ws.receive_json_from(timeout=5))["type"] == "test.event"
    await ws.disconnect()


@pytest.mark.asyncio
async def test_a_send_the_server_refuses_ends_nothing_but_relaying_and_the_layer_forgets_the_socket(pubsub_layer):
    """The server refuses a send (uvicorn raises ClientDisconnected, an OSError, when the client has gone): the
    consumer sends nothing more, ends cleanly on the disconnect, and leaves its group and channel behind it."""
    refusing = {"on": False}
    app = _GatedConsumer.as_asgi()

    async def server(scope, receive, send):  # the ASGI server's side of send, refusing once the client "went"
        async def refusing_send(message):
            if refusing["on"] and message["type"] == "websocket.send":
                raise OSError("client disconnected")
            await send(message)

        await app(scope, receive, refusing_send)

    _gated_reset()
    ws = WebsocketCommunicator(server, "/ws/relay-test/")
    assert (await ws.connect(timeout=5))[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    loop_layer = pubsub_layer._get_layer()
    assert len(loop_layer.channels) == 1
    assert [len(members) for members in loop_layer.groups.values()] == [1]
    refusing["on"] = True
    await pubsub_layer.group_send("relay-test", {"type": "test.event", "version": 1})
    await pubsub_layer.group_send("relay-test", {"type": "test.event", "version": 2})
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()  # raises if the consumer ended with an exception
    assert loop_layer.channels == {}
    assert not any(loop_layer.groups.values())
