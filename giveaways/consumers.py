"""Public stream: `/ws/raffles/<id>/` — `raffle.updated` (tickets, status) and `raffle.drawn`."""

from __future__ import annotations

from channels.db import database_sync_to_async

from core.consumers import NOT_FOUND, StreamConsumer
from giveaways import realtime, selectors

SNAPSHOT_ROWS = 25


@database_sync_to_async
def _raffle_snapshot(raffle_id: int) -> dict | None:
    raffle = selectors.raffle_get(raffle_id)
    if raffle is None:
        return None
    entries = selectors.raffle_entries(raffle)
    leaders = sorted(entries, key=lambda row: (-row.tickets, row.uid))[:SNAPSHOT_ROWS]
    return {
        "raffle_id": raffle.pk,
        "status": raffle.status,
        "entries": len(entries),
        "tickets_total": sum(row.tickets for row in entries),
        "leaders": [{"uid": row.uid, "name": row.name, "tickets": row.tickets} for row in leaders],
        "winners": [
            {"position": w.position, "uid": w.uid, "name": w.public, "tickets": w.tickets, "prize": str(w.prize)}
            for w in selectors.raffle_winners(raffle)
        ],
    }


class RaffleConsumer(StreamConsumer):
    relayed = frozenset({"raffle.updated", "raffle.drawn"})

    async def authorize(self) -> int | None:
        self.raffle_id = int(self.scope["url_route"]["kwargs"]["raffle_id"])
        self.initial = await _raffle_snapshot(self.raffle_id)
        if self.initial is None:
            return NOT_FOUND
        self.group = realtime.raffle_group(self.raffle_id)
        return None

    async def snapshot(self) -> dict:
        data, self.initial = self.initial or await _raffle_snapshot(self.raffle_id), None
        return data or {}
