"""The shared shape of every WebSocket stream: snapshot on connect, versioned events, tolerant of bad input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from core import metrics, realtime

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the client should not retry these with the same request.
UNAUTHORIZED = 4401
NOT_FOUND = 4404
BAD_REQUEST = 4400
FORBIDDEN = 4403
MAX_CLIENT_MESSAGE = 4096
# A socket may ask for a snapshot once every SNAPSHOT_EVERY seconds: the first request is answered at once, the
# ones that follow within the interval are folded into one snapshot sent when it is over (each costs reads).
SNAPSHOT_EVERY = 5.0


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses set `self.group` in `authorize()` and return the snapshot data from `snapshot()`."""

    group: str = ""
    user_group: str = ""  # the connections group of the signed-in user, if any
    stream: str = ""  # the metrics label of an accepted, subscribed socket
    # Group events sent on to the client as they are. They touch no database, so they skip the thread hop
    # Channels makes before every handler to close stale database connections: with 1,000 sockets that hop
    # was most of a fan-out's CPU (bench/fanout.py, docs/performance.md). Once the connect snapshot is out, the
    # task that reads the channel layer sends them itself (`_layer_receive`).
    relayed: frozenset[str] = frozenset()
    relaying: bool = False
    closed: bool = False
    user_id: int | None = None  # the user the session signed in when the socket opened
    snapshot_due: float = 0.0  # event-loop time from which a requested snapshot goes out at once
    snapshot_folded: bool = False  # requests are waiting for the snapshot sent when the interval is over
    snapshot_task: asyncio.Task | None = None  # that snapshot (held here: the loop keeps only a weak reference)

    async def __call__(self, scope, receive, send) -> None:
        """Channels' consumer loop (`AsyncConsumer.__call__`), reading the channel layer with `_layer_receive`.

        Channels reads each layer message in a new task and hands it to the consumer's own task through
        `asyncio.wait`: three task switches and a task creation per socket per event, which a fan-out to 500
        sockets per process pays 500 times. Here one long-lived read loop sends relayed events straight on.
        """
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            sources.append(self._layer_receive)
        try:
            with contextlib.suppress(StopConsumer):
                await await_many_dispatch(sources, self.dispatch)
        finally:
            if self.channel_layer is not None:
                await self._leave()

    async def _leave(self) -> None:
        """However the consumer ends, leave its groups and let the layer forget its channel. Channels' layer drops
        a channel's queue and subscription only when a receive is cancelled, and the read loop may instead be
        cancelled in the middle of a send."""
        try:
            await self.disconnect(1000)  # idempotent: already done when the client said goodbye
            forget = getattr(self.channel_layer, "channel_forget", None)
            if forget is not None:
                await forget(self.channel_name)
        except Exception:  # Redis gone: its subscriptions went with it
            logger.warning("stream: could not leave the channel layer for %s", self.channel_name, exc_info=True)

    async def _layer_receive(self) -> dict:
        """The next layer message for `dispatch`; relayed events are sent on here once the snapshot is out."""
        while True:
            message = await self.channel_layer.receive(self.channel_name)
            if not self.relaying or message.get("type") not in self.relayed:
                return message
            try:
                await self.forward(message)
            except (OSError, RuntimeError):
                # The client went (uvicorn: ClientDisconnected) or the server closed the socket: the disconnect
                # that follows ends the consumer; until then, nothing more is sent.
                self.closed = True

    async def authorize(self) -> int | None:
        """Decide whether this client may subscribe; return a close code to refuse."""
        return None

    async def still_allowed(self) -> bool:
        """Asked again when access to the group may have changed (`access.recheck`); True by default."""
        return True

    async def snapshot(self) -> dict:
        raise NotImplementedError

    async def connect(self) -> None:
        realtime.server_loop_record()
        user, session = self.scope.get("user"), self.scope.get("session")
        if await database_sync_to_async(second_factor_missing)(user, session):
            refusal = UNAUTHORIZED  # a staff session that has not proven the second factor carries nothing
        else:
            refusal = await self.authorize()
        # Accept first so the refusal reaches the client as a close code it can act on (4401 → sign in).
        await self.accept()
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.stream = type(self).__name__.removesuffix("Consumer").lower()
        metrics.SOCKETS_OPEN.labels(self.stream).inc()
        metrics.SOCKETS_OPENED.labels(self.stream).inc()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.user_id = user.pk
            self.user_group = realtime.connections_group(user.pk)
            await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.send_snapshot()
        # From here on events may be sent while a client message is being answered; before, they wait for the
        # snapshot, which must come first (events carry later versions than it).
        self.relaying = True

    async def websocket_disconnect(self, message: dict) -> None:
        self.closed = True  # the client has gone: nothing more can be sent
        await super().websocket_disconnect(message)

    async def disconnect(self, code: int) -> None:
        later, self.snapshot_task = self.snapshot_task, None
        if later is not None and not later.done() and later is not asyncio.current_task():
            later.cancel()
        if self.stream:
            metrics.SOCKETS_OPEN.labels(self.stream).dec()
            self.stream = ""
        group, user_group, self.group, self.user_group = self.group, self.user_group, "", ""
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
        if user_group:
            await self.channel_layer.group_discard(user_group, self.channel_name)

    async def connection_close(self, event: dict) -> None:
        """The user's access was withdrawn (ban, sign out everywhere): close; a reconnect is refused."""
        await self.close(code=FORBIDDEN)

    async def access_recheck(self, event: dict) -> None:
        """A right behind the socket may have ended (password changed, staff rights or a group removed, a ticket
        changed hands): the session must still sign in the same user (4401 if not), and the stream must still
        be theirs to follow (4403 if not)."""
        if self.closed:
            return
        if self.user_id is not None and not await self.session_still_valid():
            await self.close(code=UNAUTHORIZED)
        elif not await self.still_allowed():
            await self.close(code=FORBIDDEN)

    async def session_ended(self, event: dict) -> None:
        """The user signed out of one session (`core.realtime.session_close`): its sockets close, the others stay."""
        if event.get("session") == realtime.session_digest(self._session_key()):
            await self.close(code=UNAUTHORIZED)

    def _session_key(self) -> str | None:
        session = self.scope.get("session")
        return getattr(session, "session_key", None) if session is not None else None

    async def session_still_valid(self) -> bool:
        """Read the session again from its store, the way the socket was signed in: gone (signed out), a password
        or sessions epoch that no longer matches its hash, or an inactive user all end it."""
        key = self._session_key()
        if not key:
            return False
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)  # read by get_user, in its thread
        user = await get_user({"session": store})
        if not (user.is_authenticated and user.pk == self.user_id):
            return False
        return not await database_sync_to_async(second_factor_missing)(user, store)

    async def send_snapshot(self) -> None:
        # Events that arrive while the snapshot is read wait behind it, so no event newer than a snapshot is sent
        # before it (a client replaces its state with the snapshot).
        relaying, self.relaying = self.relaying, False
        try:
            version = realtime.group_version(self.group)
            await self.send_json({"type": "snapshot", "version": version, "data": await self.snapshot()})
        finally:
            self.relaying = relaying

    async def snapshot_request(self) -> None:
        """At most one requested snapshot per SNAPSHOT_EVERY seconds per socket; the connect snapshot is free, so
        a client that asks once after (re)connecting is answered at once."""
        if self.snapshot_folded:
            return  # folded into the snapshot already waiting for the end of the interval
        loop = asyncio.get_running_loop()
        wait = self.snapshot_due - loop.time()
        if wait <= 0:
            self.snapshot_due = loop.time() + SNAPSHOT_EVERY
            await self.send_snapshot()
        else:
            self.snapshot_folded = True
            self.snapshot_task = asyncio.create_task(self._snapshot_after(wait))

    async def _snapshot_after(self, wait: float) -> None:
        # Sent through the socket's own channel, so the snapshot is read in the consumer's task like any other:
        # events that arrive meanwhile wait behind it, never newer than a snapshot before it.
        await asyncio.sleep(wait)
        try:
            await self.channel_layer.send(self.channel_name, {"type": "stream.snapshot"})
        except Exception:  # Redis gone: the client re-snapshots when it reconnects
            self.snapshot_folded = False
            logger.warning("stream: could not schedule a folded snapshot for %s", self.channel_name, exc_info=True)

    async def stream_snapshot(self, event: dict) -> None:
        """The snapshot folded requests waited for (`_snapshot_after`)."""
        self.snapshot_folded = False  # requests made from now on wait for the next interval
        self.snapshot_due = asyncio.get_running_loop().time() + SNAPSHOT_EVERY
        if not self.closed:
            await self.send_snapshot()

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None or len(text_data) > MAX_CLIENT_MESSAGE:
            await self.send_json({"type": "error", "error": "Send JSON text messages of at most 4 KB."})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "error": "Messages must be JSON objects."})
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "snapshot":
            await self.snapshot_request()
        else:
            await self.send_json(
                {"type": "error", "error": 'Unknown message. Send {"type": "ping"} or {"type": "snapshot"}.'}
            )

    async def dispatch(self, message: dict) -> None:
        if message["type"] in self.relayed:
            await self.forward(message)
        else:
            await super().dispatch(message)

    async def close(self, code=None, reason=None) -> None:
        self.closed = True
        await super().close(code=code, reason=reason)

    async def forward(self, event: dict) -> None:
        """Relay a group event to the client as is (its `type` is the public event name)."""
        if self.closed:
            return  # closing: the server refuses sends after a close, and the client is going anyway
        await self.send(text_data=_encoded(event))


def second_factor_missing(user, session) -> bool:
    """With STAFF_2FA on, a staff session carries nothing until the second factor is proven in it, on a socket as
    on a page (core.middleware.StaffTwoFactorMiddleware): the session must name a confirmed device of the user,
    read as django-otp's middleware reads it."""
    if not (settings.STAFF_2FA and user is not None and user.is_authenticated and user.is_staff):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is None or device.user_id != user.pk or not device.confirmed


# The last event relayed and its JSON text. The channel layer hands every socket of a process the same message
# object (core.layers), so a fan-out encodes it once instead of once per socket. Sockets live on one event loop.
_last_relayed: tuple[dict | None, str] = (None, "")


def _encoded(event: dict) -> str:
    global _last_relayed
    last, text = _last_relayed
    if event is not last:
        text = json.dumps(event)
        _last_relayed = (event, text)
    return text
