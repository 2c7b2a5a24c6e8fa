"""Realtime announcements of the races app, sent after commit (see goatedvips/realtime.py for the rules)."""

from __future__ import annotations

from core import realtime

LEADERBOARD_GROUP = "leaderboard"


def race_group(race_id: int) -> str:
    return f"race.{race_id}"


def leaderboard_updated_announce(updated_at: str | None = None) -> bool:
    """A sync committed: the cached leaderboards changed. `updated_at` is the sync's data time (ISO 8601), so a
    client that reads the API from a web process that has not noticed yet can tell and ask again."""
    return realtime.send_coalesced(LEADERBOARD_GROUP, "leaderboard.updated", updated_at=updated_at)


def race_updated_announce(race_id: int) -> bool:
    return realtime.send_coalesced(race_group(race_id), "race.updated", race_id=race_id)


def race_completed_announce(race_id: int) -> bool:
    return realtime.send(race_group(race_id), "race.completed", race_id=race_id)
