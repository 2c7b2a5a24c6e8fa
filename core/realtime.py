"""Broadcasting to WebSocket groups: versioned, coalesced, and never fatal for the caller.

Every message carries a version (microseconds since the epoch when it was sent; snapshots carry the time they
were taken) so a client can drop one that arrives after a newer one. "Something changed" events (`leaderboard.updated`,
`race.updated`) are coalesced to at most one per group per second: the first goes out at once, later ones in
the same second are folded into one trailing send when the second is over. Events that carry content
(`race.completed`, `notification`, `ticket.message`) are never folded.

A broken channel layer (Redis down) must not fail the sync or request that triggered the event: the send is
logged and dropped, and clients re-snapshot when they reconnect.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.cache import cache

from core import metrics

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 1.0
_GATE_KEY = "rt:gate:{group}"
_trailing: dict[str, dict] = {}  # group → the payload the pending trailing send will carry (the latest)
_timers: dict[str, threading.Timer] = {}  # group → the timer of its pending trailing send
_trailing_lock = threading.Lock()
# The ASGI server's event loop, recorded by the first consumer that connects. The in-memory channel layer
# (embedded mode) keeps asyncio queues bound to that loop, so sends from plain threads (the scheduler, the
# coalescing timer) must run there; the Redis layer works from any loop.
_server_loop: asyncio.AbstractEventLoop | None = None


def server_loop_record() -> None:
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def group_version(group: str) -> int:
    """The version a snapshot taken now carries: any event sent after it has a larger one."""
    return _next_version(group)


def _next_version(group: str) -> int:
    # Microseconds since the epoch: increasing across every process on synchronised clocks, and nothing to lose
    # when Redis restarts (a counter kept there would start again at 1 and make clients drop fresh events).
    return time.time_ns() // 1000


def _group_send(group: str, message: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = _server_loop
        if isinstance(layer, InMemoryChannelLayer) and loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=5)
        else:
            async_to_sync(layer.group_send)(group, message)
        return True
    # Called from a thread that runs an event loop (rare: tools, tests): send from a helper thread instead.
    outcome: list[bool] = []
    worker = threading.Thread(target=lambda: outcome.append(_group_send(group, message)), daemon=True)
    worker.start()
    worker.join(5)
    return bool(outcome and outcome[0])


def send(group: str, event_type: str, **payload) -> bool:
    """Send one versioned event now. Returns False (and logs) if the channel layer is unavailable."""
    message = {"type": event_type, "version": _next_version(group), **payload}
    try:
        sent = _group_send(group, message)
    except Exception:  # Redis down, layer misconfigured...: log and carry on
        logger.exception("realtime: could not send %s to %s", event_type, group)
        metrics.LAYER_ERRORS.inc()
        metrics.EVENTS.labels(event_type, "dropped").inc()
        return False
    metrics.EVENTS.labels(event_type, "sent" if sent else "dropped").inc()
    return sent


def send_coalesced(group: str, event_type: str, **payload) -> bool:
    """Send now if nothing went to the group in the last second, else once when the second is over."""
    gate = _GATE_KEY.format(group=group)
    try:
        # Not added and nothing to read: the cache is down (core.cache answers a miss rather than raising).
        first = cache.add(gate, 1, timeout=COALESCE_SECONDS) or cache.get(gate) is None
    except Exception:
        first = True  # without the cache there is nothing to coalesce against: just send
    if first:
        return send(group, event_type, **payload)
    metrics.EVENTS.labels(event_type, "coalesced").inc()
    with _trailing_lock:
        pending = group in _trailing
        _trailing[group] = payload  # the trailing send carries the latest state, not the first folded one
        if not pending:
            timer = threading.Timer(COALESCE_SECONDS, _send_trailing, args=(group, event_type))
            timer.daemon = True
            _timers[group] = timer
            timer.start()
    return True


def _send_trailing(group: str, event_type: str) -> None:
    with _trailing_lock:
        _timers.pop(group, None)
        if group not in _trailing:
            return  # dropped by trailing_cancel
        payload = _trailing.pop(group)
    send_coalesced(group, event_type, **payload)


def trailing_cancel() -> None:
    """Drop the trailing sends not made yet (tests: an event one test folded must not reach the next one's
    sockets a second later)."""
    with _trailing_lock:
        for timer in _timers.values():
            timer.cancel()
        _timers.clear()
        _trailing.clear()


def connections_group(user_id: int) -> str:
    """Every open socket of a signed-in user joins this group, so their access can be withdrawn at once."""
    return f"connections.{user_id}"


def connections_close(user_id: int) -> bool:
    """Close every open socket of a user (banned, signed out everywhere): they must reconnect, and are refused."""
    return send(connections_group(user_id), "connection.close", reason="access withdrawn")


def access_recheck(group: str) -> bool:
    """Ask every socket of a group to check again that its user may still follow it (a ticket changed hands)."""
    return send(group, "access.recheck")


def connections_recheck(user_id: int) -> bool:
    """A right of the user may have ended (password changed, staff status or a group removed): each of their
    sockets reads its session again and checks that its user may still follow its stream."""
    return send(connections_group(user_id), "access.recheck")


def session_close(user_id: int, session_key: str | None) -> bool:
    """The user signed out of one session: the sockets opened with it close (the sockets of their other sessions
    stay). The session is named by a digest, never by its key."""
    return send(connections_group(user_id), "session.ended", session=session_digest(session_key))


def session_digest(session_key: str | None) -> str:
    """How a session is named in channel-layer messages (never by its key: the key signs its holder in)."""
    return hashlib.sha256(f"socket-session:{session_key}".encode()).hexdigest()[:32] if session_key else ""
