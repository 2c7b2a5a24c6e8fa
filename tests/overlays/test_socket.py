"""The overlay socket through the real ASGI application: authorized by its token, a fresh snapshot on each data
event, closed by revoking or rotating the link."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from giveaways import realtime as raffle_realtime
from giveaways.models import Raffle, RaffleWinner
from overlays.realtime import overlay_group
from overlays.services import overlay_link_create, overlay_link_revoke, overlay_link_rotate
from races import realtime as race_realtime
from races.feed.leaderboard import leaderboard_cache_refresh
from races.feed.ranks import player_ranks_recompute
from races.models import Player, RaceParticipant
from tests.overlays.conftest import make_board
from tests.realtime.servers import session_key_for
from tests.realtime.test_consumers import open_socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(token: str, headers: list | None = None) -> tuple[WebsocketCommunicator, dict]:
    return await open_socket(f"/ws/overlay/{token}/", headers or [])


async def closed_with(ws: WebsocketCommunicator) -> int | None:
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def test_an_unknown_or_revoked_token_is_refused():
    _ws, outcome = await connect("x" * 32)
    assert outcome == {"closed": 4404}
    link = await sync_to_async(overlay_link_create)("leaderboard")
    await sync_to_async(overlay_link_revoke)(link.pk)
    _ws, outcome = await connect(link.token)
    assert outcome == {"closed": 4404}


async def test_a_sync_sends_the_new_leader_and_revoking_closes_the_socket():
    await sync_to_async(make_board)()
    link = await sync_to_async(overlay_link_create)("leaderboard", n=3)
    ws, snapshot = await connect(link.token)
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"]["leaderboard"]["rows"][0]["name"] == "Alpha"

    def bravo_takes_the_lead() -> None:
        Player.objects.filter(uid="bravo").update(wager_month=Decimal("9000"))
        player_ranks_recompute()
        leaderboard_cache_refresh()
        race_realtime.leaderboard_updated_announce(timezone.now().isoformat())

    await sync_to_async(bravo_takes_the_lead)()
    fresh = await ws.receive_json_from(timeout=2)
    assert fresh["type"] == "snapshot"
    assert fresh["version"] > snapshot["version"]
    assert [r["name"] for r in fresh["data"]["leaderboard"]["rows"]][:2] == ["Bravo", "Alpha"]

    await sync_to_async(overlay_link_revoke)(link.pk)
    assert await closed_with(ws) == 4404
    _ws, outcome = await connect(link.token)
    assert outcome == {"closed": 4404}


async def test_rotating_closes_the_old_tokens_sockets_only():
    link = await sync_to_async(overlay_link_create)("leaderboard")
    old, _ = await connect(link.token)
    other_link = await sync_to_async(overlay_link_create)("leaderboard")
    other, _ = await connect(other_link.token)
    rotated = await sync_to_async(overlay_link_rotate)(link.pk)
    assert await closed_with(old) == 4404
    assert await other.receive_nothing(timeout=0.5)
    fresh, snapshot = await connect(rotated.token)
    assert snapshot["type"] == "snapshot"
    await fresh.disconnect()
    await other.disconnect()


async def test_a_race_overlay_follows_its_race_and_a_raffle_overlay_shows_the_winners():
    board = await sync_to_async(make_board)()
    race_link = await sync_to_async(overlay_link_create)("race", n=2)
    raffle_link = await sync_to_async(overlay_link_create)("raffle")
    race_ws, race_snap = await connect(race_link.token)
    raffle_ws, raffle_snap = await connect(raffle_link.token)
    assert [r["name"] for r in race_snap["data"]["race"]["rows"]] == ["Alpha", "Bravo"]
    assert raffle_snap["data"]["raffle"]["rows"][0]["name"] == "Bravo"

    def bravo_passes_alpha() -> None:
        RaceParticipant.objects.filter(race=board["race"], player__uid="bravo").update(rank=1)
        RaceParticipant.objects.filter(race=board["race"], player__uid="alpha").update(rank=2)
        race_realtime.race_updated_announce(board["race"].pk)

    await sync_to_async(bravo_passes_alpha)()
    fresh = await race_ws.receive_json_from(timeout=2)
    assert [r["name"] for r in fresh["data"]["race"]["rows"]] == ["Bravo", "Alpha"]

    def draw() -> None:
        raffle = board["raffle"]
        Raffle.objects.filter(pk=raffle.pk).update(status=Raffle.Status.DRAWN, drawn_at=timezone.now())
        bravo = board["players"][1]
        RaffleWinner.objects.create(raffle=raffle, position=1, player=bravo, uid=bravo.uid, name=bravo.name,
                                    tickets=9, prize="100.00")  # fmt: skip
        raffle_realtime.raffle_drawn_announce(raffle.pk)

    await sync_to_async(draw)()
    drawn = await raffle_ws.receive_json_from(timeout=2)
    assert drawn["data"]["raffle"]["status"] == "drawn"
    assert drawn["data"]["raffle"]["winners"][0]["name"] == "Bravo"
    await race_ws.disconnect()
    await raffle_ws.disconnect()


async def test_events_of_one_sync_fold_into_one_snapshot():
    board = await sync_to_async(make_board)()
    link = await sync_to_async(overlay_link_create)("ticker")
    ws, _ = await connect(link.token)

    def sync_events() -> None:
        race_realtime.leaderboard_updated_announce()
        race_realtime.race_updated_announce(board["race"].pk)

    await sync_to_async(sync_events)()
    assert (await ws.receive_json_from(timeout=2))["type"] == "snapshot"
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_a_staff_session_without_its_second_factor_does_not_matter_to_an_overlay(staff_user, settings):
    settings.STAFF_2FA = True
    link = await sync_to_async(overlay_link_create)("leaderboard")
    cookie = f"{settings.SESSION_COOKIE_NAME}={await sync_to_async(session_key_for)(staff_user)}"
    ws, snapshot = await connect(link.token, [(b"cookie", cookie.encode())])
    assert snapshot["type"] == "snapshot"  # not 4401: the overlay is nobody's
    await ws.disconnect()


async def test_the_links_group_is_named_by_a_digest_never_by_the_token():
    token = "A" * 32
    assert token not in overlay_group(token)
    assert len(overlay_group(token)) < 100
