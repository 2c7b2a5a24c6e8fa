"""`/ws/overlay/<token>/`: an overlay's stream. The token authorizes it (4404 when unknown or revoked); it listens
to the data groups of its kind and answers every event with a fresh snapshot, so the page never has to ask the
API; revoking or rotating the link closes it through the link's own group (overlays.realtime)."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from core.consumers import NOT_FOUND, StreamConsumer
from overlays import realtime, selectors

# Events of one sync (leaderboard.updated, race.updated, raffle.updated) arrive within milliseconds of each other:
# they are folded into one snapshot sent this long after the first.
FOLD_SECONDS = 0.1
# A leaderboard event names the sync's time; this process may still read the previous sync's cached rows for up to
# a second (races.feed.leaderboard.META_TTL_SECONDS): it reads again until the rows are the sync's.
STALE_RETRIES, STALE_WAIT = 6, 0.25


@database_sync_to_async
def _link(token: str, kind: str | None = None):
    return selectors.overlay_link_active(token, kind)


@database_sync_to_async
def _state(link) -> tuple[dict, set[str]]:
    return selectors.overlay_data(link), selectors.overlay_groups(link)


class OverlayConsumer(StreamConsumer):
    data_groups: frozenset[str] = frozenset()
    refresh_pending: bool = False
    wanted_updated_at: str = ""

    async def __call__(self, scope, receive, send) -> None:
        # An overlay is nobody's: whatever session the browser source carries is not used (nor a staff session's
        # missing second factor held against the overlay).
        scope = {**scope, "user": AnonymousUser(), "session": None}
        await super().__call__(scope, receive, send)

    async def authorize(self) -> int | None:
        self.token = self.scope["url_route"]["kwargs"]["token"]
        self.link = await _link(self.token)
        if self.link is None:
            return NOT_FOUND
        self.group = realtime.overlay_group(self.token)
        return None

    async def snapshot(self) -> dict:
        for _ in range(STALE_RETRIES):
            data, groups = await _state(self.link)
            await self._listen(groups)
            if not self._stale(data):
                break
            await asyncio.sleep(STALE_WAIT)
        return data

    def _stale(self, data: dict) -> bool:
        board = data.get("leaderboard")
        return bool(self.wanted_updated_at and board and (board.get("updated_at") or "") < self.wanted_updated_at)

    async def _listen(self, groups: set[str]) -> None:
        """Join the data groups the link needs now (the current race may have changed), leave the others."""
        for group in groups - self.data_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        for group in self.data_groups - groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.data_groups = frozenset(groups)

    async def disconnect(self, code: int) -> None:
        groups, self.data_groups = self.data_groups, frozenset()
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)

    # --- data events: a fresh snapshot, folded --------------------------------------------------------------

    async def _refresh_soon(self) -> None:
        if self.refresh_pending or self.closed:
            return
        self.refresh_pending = True
        asyncio.get_running_loop().call_later(FOLD_SECONDS, self._refresh_due)

    def _refresh_due(self) -> None:
        # Through the socket's own channel, so the snapshot is read in the consumer's task like any handler.
        self._refresh_task = asyncio.ensure_future(
            self.channel_layer.send(self.channel_name, {"type": "overlay.refresh"})
        )

    async def overlay_refresh(self, event: dict) -> None:
        self.refresh_pending = False
        if not self.closed:
            await self.send_snapshot()

    async def leaderboard_updated(self, event: dict) -> None:
        self.wanted_updated_at = max(self.wanted_updated_at, event.get("updated_at") or "")
        await self._refresh_soon()

    async def race_updated(self, event: dict) -> None:
        await self._refresh_soon()

    race_completed = raffle_updated = raffle_drawn = race_updated

    # --- the link itself ----------------------------------------------------------------------------------------

    async def overlay_close(self, event: dict) -> None:
        """Revoked or rotated: close; a reconnect with the old token is refused (4404)."""
        await self.close(code=NOT_FOUND)

    async def overlay_changed(self, event: dict) -> None:
        """Edited in admin: read the link again (4404 if it now has another kind: the page's path is wrong)."""
        link = await _link(self.token, self.link.kind)
        if link is None:
            await self.close(code=NOT_FOUND)
            return
        self.link = link
        await self._refresh_soon()
