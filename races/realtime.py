"""Realtime announcements for races, sent after commit through the channel layer.

A broken channel layer (e.g. Redis down) must never fail the sync or request that triggered the event: every
send is wrapped, logged and dropped.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def race_group(race_id: int) -> str:
    return f"race.{race_id}"


def _send(group: str, message: dict) -> bool:
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(layer.group_send)(group, message)
        return True
    except Exception:  # the layer is optional for correctness; log and carry on
        logger.exception("realtime: could not send %s to %s", message.get("type"), group)
        return False


def race_updated_announce(race_id: int) -> bool:
    return _send(race_group(race_id), {"type": "race.updated", "race_id": race_id})


def race_completed_announce(race_id: int) -> bool:
    return _send(race_group(race_id), {"type": "race.completed", "race_id": race_id})


LEADERBOARD_GROUP = "leaderboard"


def leaderboard_updated_announce() -> bool:
    """Called after a successful sync commits: the cached leaderboards have changed."""
    return _send(LEADERBOARD_GROUP, {"type": "leaderboard.updated"})
