"""WebSocket streams through the real ASGI application (router, origin check, session auth, channel layer)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from core import realtime as core_realtime
from goatedvips.asgi import application
from races import realtime as race_realtime
from races.feed.ranks import player_ranks_recompute
from support.models import SupportTicket
from support.services import ticket_message_post
from tests.factories import PlayerFactory, StaffFactory, UserFactory, WagerRaceFactory
from tests.realtime.servers import session_key_for

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = [(b"origin", b"http://localhost")]


def _session_cookie(user) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key_for(user)}".encode())]


async def connect(path: str, user=None) -> tuple[WebsocketCommunicator, dict | None]:
    return await open_socket(path, await sync_to_async(_session_cookie)(user) if user else [])


async def open_socket(path: str, headers: list) -> tuple[WebsocketCommunicator, dict]:
    """A socket through the real ASGI application from an allowed origin, and its first message: the snapshot, or
    {"closed": code} when the server refused it."""
    ws = WebsocketCommunicator(application, path, headers=ORIGIN + headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    first = await ws.receive_output(timeout=5)
    if first["type"] == "websocket.close":
        return ws, {"closed": first.get("code")}
    return ws, json.loads(first["text"])


# --- leaderboard ------------------------------------------------------------------------------------------


async def test_leaderboard_stream_sends_a_snapshot_then_sync_events():
    await sync_to_async(lambda: [PlayerFactory(wager_month=Decimal(i + 1)) for i in range(3)])()
    await sync_to_async(player_ranks_recompute)()
    ws, snapshot = await connect("/ws/leaderboard/?period=monthly")
    assert snapshot["type"] == "snapshot"
    assert [r["rank"] for r in snapshot["data"]["results"]] == [1, 2, 3]
    await sync_to_async(race_realtime.leaderboard_updated_announce)()
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "leaderboard.updated"
    assert event["version"] > snapshot["version"]
    await ws.disconnect()


async def test_leaderboard_updates_are_coalesced_to_one_a_second_with_a_trailing_send(monkeypatch):
    # A window far longer than five announcements take on a loaded machine (with 1 s they could straddle two
    # windows and be sent three times: seen with two test workers on two cores).
    monkeypatch.setattr(core_realtime, "COALESCE_SECONDS", 3.0)
    ws, _snapshot = await connect("/ws/leaderboard/")
    for _ in range(5):
        await sync_to_async(race_realtime.leaderboard_updated_announce)()
    first = await ws.receive_json_from(timeout=5)
    trailing = await ws.receive_json_from(timeout=10)  # the four folded ones, once the window is over
    assert first["type"] == trailing["type"] == "leaderboard.updated"
    assert trailing["version"] > first["version"]
    assert await ws.receive_nothing(timeout=1.5)
    await ws.disconnect()


async def test_leaderboard_stream_refuses_an_unknown_period():
    _ws, outcome = await connect("/ws/leaderboard/?period=yearly")
    assert outcome == {"closed": 4400}


@pytest.mark.parametrize(
    ("message", "reply_type"),
    [("not json", "error"), ('{"type": "dance"}', "error"), ("[1, 2]", "error"), ('{"type": "ping"}', "pong")],
)
async def test_malformed_client_messages_get_an_error_reply_and_the_socket_stays_open(message, reply_type):
    ws, _ = await connect("/ws/leaderboard/")
    await ws.send_to(text_data=message)
    reply = await ws.receive_json_from(timeout=5)
    assert reply["type"] == reply_type
    await ws.send_to(text_data='{"type": "snapshot"}')
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await ws.receive_json_from(timeout=5))["type"] == "error"
    await ws.disconnect()


async def test_connections_from_foreign_origins_are_refused():
    ws = WebsocketCommunicator(application, "/ws/leaderboard/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await ws.connect(timeout=5)
    assert not connected


# --- races ------------------------------------------------------------------------------------------------


async def test_race_stream_snapshot_and_events():
    def make():
        now = timezone.now()
        race = WagerRaceFactory(status="live", start_date=now - timedelta(days=1), end_date=now + timedelta(days=1))
        from races.services.standings import races_refresh_after_sync

        PlayerFactory(name="Leader", wager_month=Decimal("500"))
        races_refresh_after_sync(now)
        return race

    race = await sync_to_async(make)()
    ws, snapshot = await connect(f"/ws/races/{race.pk}/")
    assert snapshot["data"]["standings"][0]["name"] == "Leader"
    await sync_to_async(race_realtime.race_updated_announce)(race.pk)
    assert (await ws.receive_json_from(timeout=5))["type"] == "race.updated"
    await sync_to_async(race_realtime.race_completed_announce)(race.pk)
    done = await ws.receive_json_from(timeout=5)
    assert done == {"type": "race.completed", "version": done["version"], "race_id": race.pk}
    await ws.disconnect()


async def test_race_stream_for_an_unknown_race_closes_with_4404():
    _, outcome = await connect("/ws/races/999999/")
    assert outcome == {"closed": 4404}


# --- notifications ----------------------------------------------------------------------------------------


async def test_notifications_need_a_signed_in_user():
    _, outcome = await connect("/ws/notifications/")
    assert outcome == {"closed": 4401}


async def test_notifications_snapshot_then_live_notification():
    from notifications.services import notification_create

    user = await sync_to_async(UserFactory)()
    await sync_to_async(notification_create)(user, kind="system", title="Welcome")
    ws, snapshot = await connect("/ws/notifications/", user)
    assert snapshot["data"]["unread_count"] == 1
    await sync_to_async(notification_create)(user, kind="race", title="You won")
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "notification"
    assert event["notification"]["title"] == "You won"
    await ws.disconnect()


async def test_a_user_never_receives_another_users_notifications():
    from notifications.services import notification_create

    me, other = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    ws, _ = await connect("/ws/notifications/", me)
    await sync_to_async(notification_create)(other, kind="system", title="Private")
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


# --- support threads --------------------------------------------------------------------------------------


async def test_ticket_owner_sees_the_thread_and_a_staff_reply_arrives_live():
    owner, staff = await sync_to_async(UserFactory)(), await sync_to_async(StaffFactory)()
    ticket = await sync_to_async(SupportTicket.objects.create)(user=owner, subject="Bonus", description="Where?")
    ws, snapshot = await connect(f"/ws/support/{ticket.pk}/", owner)
    assert snapshot["data"]["subject"] == "Bonus"
    await sync_to_async(ticket_message_post)(ticket, staff, "It is on its way.")
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "ticket.message"
    assert event["message"]["is_staff_reply"] is True
    await ws.disconnect()


async def test_closing_and_reopening_a_ticket_reaches_its_open_thread():
    from support.services import ticket_close, ticket_reopen

    owner, staff = await sync_to_async(UserFactory)(), await sync_to_async(StaffFactory)()
    ticket = await sync_to_async(SupportTicket.objects.create)(user=owner, subject="Bonus", description="Where?")
    ws, _ = await connect(f"/ws/support/{ticket.pk}/", owner)
    await sync_to_async(ticket_close)(ticket, actor=staff)
    closed = await ws.receive_json_from(timeout=5)
    assert (closed["type"], closed["ticket"]["status"], closed["ticket"]["status_label"]) == (
        "ticket.updated",
        "closed",
        "Closed",
    )
    await sync_to_async(ticket_reopen)(ticket, actor=staff)
    reopened = await ws.receive_json_from(timeout=5)
    assert (reopened["type"], reopened["ticket"]["status"]) == ("ticket.updated", "open")
    await ws.disconnect()


async def test_another_players_ticket_looks_like_a_missing_one():
    owner, intruder = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    ticket = await sync_to_async(SupportTicket.objects.create)(user=owner, subject="Mine", description="x")
    _, theirs = await connect(f"/ws/support/{ticket.pk}/", intruder)
    _, missing = await connect("/ws/support/999999/", intruder)
    _, anonymous = await connect(f"/ws/support/{ticket.pk}/")
    assert theirs == missing == {"closed": 4404}
    assert anonymous == {"closed": 4401}


# --- access withdrawn ---------------------------------------------------------------------------------------


async def test_every_socket_of_a_banned_user_is_closed():
    from accounts.services import user_set_active

    user = await sync_to_async(UserFactory)(username="soon-banned")
    ticket = await sync_to_async(SupportTicket.objects.create)(user=user, subject="Help", description="Please")
    notes, _ = await connect("/ws/notifications/", user)
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", user)
    leaderboard, _ = await connect("/ws/leaderboard/", user)
    await sync_to_async(user_set_active)(user, active=False, actor=None)
    for ws in (notes, thread, leaderboard):
        closed = await ws.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    _again, refused = await connect("/ws/notifications/", user)
    assert refused == {"closed": 4401}  # the session no longer signs anyone in


async def test_a_thread_socket_is_closed_for_staff_who_lost_the_support_role_when_the_ticket_changes_hands():
    from django.contrib.auth.models import Group

    from support.services import ticket_assign

    owner = await sync_to_async(UserFactory)(username="owner")
    ticket = await sync_to_async(SupportTicket.objects.create)(user=owner, subject="Help", description="Please")

    def agent(name):
        user = UserFactory(username=name, is_staff=True)
        user.groups.add(Group.objects.get(name="Support"))
        return user

    leaving, staying = await sync_to_async(agent)("leaving"), await sync_to_async(agent)("staying")
    watcher, _ = await connect(f"/ws/support/{ticket.pk}/", leaving)
    mine, _ = await connect(f"/ws/support/{ticket.pk}/", owner)
    await sync_to_async(lambda: leaving.groups.clear())()  # left the support team
    await sync_to_async(ticket_assign)(ticket, actor=staying, assignee=staying)
    closed = await watcher.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    assert await mine.receive_nothing(timeout=0.5)  # the owner keeps following their ticket
    await mine.disconnect()
