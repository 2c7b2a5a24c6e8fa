"""Public streams: `/ws/leaderboard/` and `/ws/races/<id>/`."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from core.consumers import BAD_REQUEST, NOT_FOUND, StreamConsumer
from races import realtime
from races.feed.leaderboard import PERIODS, leaderboard_page
from races.models import WagerRace
from races.selectors import races as race_selectors

SNAPSHOT_ROWS = 25


class LeaderboardConsumer(StreamConsumer):
    relayed = frozenset({"leaderboard.updated"})

    async def authorize(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        self.period = (query.get("period") or ["monthly"])[0]
        if self.period not in PERIODS:
            return BAD_REQUEST
        self.group = realtime.LEADERBOARD_GROUP
        return None

    async def snapshot(self) -> dict:
        return await database_sync_to_async(leaderboard_page)(self.period, SNAPSHOT_ROWS, 0)


@database_sync_to_async
def _race_snapshot(race_id: int) -> dict | None:
    race = WagerRace.objects.filter(pk=race_id).first()
    if race is None:
        return None
    total, rows = race_selectors.race_standings(race, limit=SNAPSHOT_ROWS)
    return {
        "race_id": race.pk,
        "status": race.status,
        "time_left_seconds": race_selectors.race_time_left(race),
        "standings_total": total,
        "standings": [
            {"rank": r.rank, "uid": r.uid, "name": r.name, "wagered": str(r.wagered), "prize": str(r.prize)}
            for r in rows
        ],
    }


class RaceConsumer(StreamConsumer):
    relayed = frozenset({"race.updated", "race.completed"})

    async def authorize(self) -> int | None:
        self.race_id = int(self.scope["url_route"]["kwargs"]["race_id"])
        self.initial = await _race_snapshot(self.race_id)
        if self.initial is None:
            return NOT_FOUND
        self.group = realtime.race_group(self.race_id)
        return None

    async def snapshot(self) -> dict:
        data, self.initial = self.initial or await _race_snapshot(self.race_id), None
        return data or {}
