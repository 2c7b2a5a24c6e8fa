"""The roles matrix (issue 30): every role × every channel × every staff power, against the one roles table.

Roles: anonymous, a verified player, a banned player, Support, an Operator and a superuser; the staff roles each
with `STAFF_2FA` off, on with the second factor proven, and on without it ("missing"). Channels: a site page
(session), the API (token), a socket (session cookie, through the real ASGI application) and the bot (updates
through its webhook entry, `update_handle`, against the fake Bot API server). Staff powers: answer any player's
ticket as staff, review verification claims, broadcast, operate payouts.

Each test collects the powers a persona actually got on one channel and compares the set with what
`core.roles` says (ROLES, through the permission each predicate and BOT_COMMAND_PERMISSIONS name): the expected
side is computed from the table, never written out, so the table stays the one source of truth.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User, VerificationRequest
from accounts.services import user_set_active
from core.roles import (
    BOT_COMMAND_PERMISSIONS,
    BROADCAST_PERMISSION,
    ROLES,
    SUPPORT_STAFF_PERMISSION,
    VERIFICATION_REVIEW_PERMISSION,
    is_support_staff,
    is_verification_reviewer,
    may_use_bot_command,
)
from notifications.models import Broadcast
from support.models import SupportTicket
from tests.factories import TEST_PASSWORD, PlayerFactory, StaffFactory, UserFactory, staff_member

# The staff powers and the permission each is granted by (the predicates of core.roles check these).
PAYOUTS_PERMISSION = "payouts.view_payout"  # the payouts queue is the Payouts admin (Operators: view, change)
POWERS = {
    "tickets": SUPPORT_STAFF_PERMISSION,
    "verification": VERIFICATION_REVIEW_PERMISSION,
    "broadcast": BROADCAST_PERMISSION,
    "payouts": PAYOUTS_PERMISSION,
}
STAFF_ROLES = ["Support", "Operators", "superuser"]
PERSONAS = [(role, "-") for role in ("anonymous", "player", "banned")] + [
    (role, factor) for role in STAFF_ROLES for factor in ("off", "proven", "missing")
]
IDS = [f"{role}-2fa-{factor}" if factor != "-" else role for role, factor in PERSONAS]
matrix = pytest.mark.parametrize(("role", "factor"), PERSONAS, ids=IDS)
RECOVERY = "recover1"
PERSONA_TG, FAN_TG = 1001, 70_001


def table_grants(role: str, permission: str) -> bool:
    """What core.roles.ROLES says: a superuser holds every permission, a group exactly its row, the rest none."""
    if role == "superuser":
        return True
    if role not in ROLES:
        return False
    app_label, codename = permission.split(".")
    action, _, model = codename.partition("_")
    return action in ROLES[role].get(f"{app_label}.{model}", ())


def expected(role: str, factor: str, permissions: dict[str, str], *, second_factor_applies: bool = True) -> set:
    """The powers the table gives `role` on a channel; where the channel asks for the second factor, only with
    it proven (or STAFF_2FA off)."""
    passes = factor != "missing" or not second_factor_applies
    return {power for power, permission in permissions.items() if table_grants(role, permission) and passes}


# --- personas -------------------------------------------------------------------------------------------------


def _persona(role: str, factor: str, settings) -> User | None:
    settings.STAFF_2FA = factor != "off"
    if role == "anonymous":
        return None
    if role in ("player", "banned"):
        user = UserFactory(username=role, verification_status="verified")
    elif role == "superuser":
        user = StaffFactory(username="root")
    else:
        user = staff_member(role)
    if user.is_staff:
        device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
        recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        StaticToken.objects.create(device=recovery, token=RECOVERY)
        # The predicates of core.roles read the same table (the bot and the site ask them, not the table).
        assert is_support_staff(user) == table_grants(role, SUPPORT_STAFF_PERMISSION)
        assert is_verification_reviewer(user) == table_grants(role, VERIFICATION_REVIEW_PERMISSION)
        assert all(may_use_bot_command(user, c) == table_grants(role, p) for c, p in BOT_COMMAND_PERMISSIONS.items())
        user.device = device
    return user


def _ban_if(role: str, user: User | None) -> None:
    if role == "banned":
        assert user_set_active(user, active=False, actor=None)  # after signing in: the sessions and token it had


def _session(user: User | None, factor: str) -> Client:
    """A browser signed in as `user`; staff prove the second factor in it only when `factor` is "proven"."""
    browser = Client()
    if user is None:
        return browser
    browser.force_login(user)
    if factor == "proven":
        code = totp(user.device.bin_key, step=user.device.step, t0=user.device.t0, digits=user.device.digits)
        assert browser.post("/accounts/2fa/", {"token": f"{code:06d}", "next": "/"}).status_code == 302
    return browser


def _someone_elses_ticket() -> SupportTicket:
    return SupportTicket.objects.create(user=UserFactory(username="victim"), subject="Private problem", description=".")


def _claim(name: str) -> VerificationRequest:
    player = PlayerFactory(name=name)
    return VerificationRequest.objects.create(user=UserFactory(), goated_name=name, player=player)


# --- site pages (session) ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@matrix
def test_site_pages_open_exactly_the_powers_the_roles_table_gives(settings, role, factor):
    """/support/ with every ticket; admin's review queue with its Approve action, the broadcast composer and the
    payouts queue. A staff session without the second factor is sent to /accounts/2fa/ from each of them."""
    user = _persona(role, factor, settings)
    ticket, claim = _someone_elses_ticket(), _claim("ClaimedGoat")
    browser = _session(user, factor)
    _ban_if(role, user)

    def opens(path: str, *marks: str) -> bool:
        page = browser.get(path)
        return page.status_code == 200 and all(mark in page.content.decode() for mark in marks)

    got = {
        "tickets": opens("/support/", ticket.subject),
        "verification": opens("/admin/accounts/verificationrequest/", claim.goated_name, 'value="approve"'),
        "broadcast": opens("/admin/notifications/broadcast/add/"),
        "payouts": opens("/admin/payouts/payout/"),
    }
    assert {power for power, allowed in got.items() if allowed} == expected(role, factor, POWERS)


# --- the API (token) --------------------------------------------------------------------------------------------


def _api_token(user: User | None, factor: str) -> str | None:
    """The token this persona holds: from the token endpoint (staff send a recovery code with 2FA on); a staff
    member without the second factor gets none there, and holds only a token from before 2FA applied."""
    if user is None:
        return None
    credentials = {"username": user.username, "password": TEST_PASSWORD}
    if factor == "missing":
        assert APIClient().post("/api/v1/auth/token/", credentials, format="json").status_code == 400
        return Token.objects.create(user=user).key
    if factor == "proven":
        credentials["otp"] = RECOVERY
    response = APIClient().post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.mark.django_db
@matrix
def test_an_api_token_carries_exactly_the_powers_the_roles_table_gives(settings, role, factor):
    """The API's staff power: a reply to another player's ticket, counted as a staff reply."""
    user = _persona(role, factor, settings)
    ticket = _someone_elses_ticket()
    key = _api_token(user, factor)
    _ban_if(role, user)
    api = APIClient()
    if key:
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    reply = api.post(f"/api/v1/support/tickets/{ticket.pk}/messages/", {"body": "Support team here"}, format="json")
    staff_reply = reply.status_code == 201 and reply.json()["is_staff_reply"] is True
    assert reply.status_code in (201, 401, 404), reply.content
    got = {"tickets"} if staff_reply else set()
    assert got == expected(role, factor, {"tickets": POWERS["tickets"]})


# --- sockets (session cookie) -----------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@matrix
async def test_a_socket_follows_exactly_the_threads_the_roles_table_gives(settings, role, factor):
    """/ws/support/<another player's ticket>/ opens (a snapshot comes) only for those who answer every ticket."""
    from channels.testing import WebsocketCommunicator

    from goatedvips.asgi import application

    def arrange() -> tuple[int, str | None]:
        user = _persona(role, factor, settings)
        ticket = _someone_elses_ticket()
        browser = _session(user, factor)
        _ban_if(role, user)
        return ticket.pk, browser.cookies[django_settings.SESSION_COOKIE_NAME].value if user else None

    ticket_id, session_key = await sync_to_async(arrange)()
    headers = [(b"origin", b"http://localhost")]
    if session_key:
        headers.append((b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    ws = WebsocketCommunicator(application, f"/ws/support/{ticket_id}/", headers=headers)
    assert (await ws.connect(timeout=5))[0]
    first = await ws.receive_output(timeout=5)
    follows = first["type"] == "websocket.send" and json.loads(first["text"])["type"] == "snapshot"
    if follows:
        await ws.disconnect()
    else:
        assert first["type"] == "websocket.close", first
        assert first["code"] in (4401, 4403, 4404), first
    got = {"tickets"} if follows else set()
    assert got == expected(role, factor, {"tickets": POWERS["tickets"]})


# --- the bot (linked Telegram account) ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("vip_ladder", "ratelimit_clock")
@matrix
def test_bot_staff_commands_and_buttons_open_exactly_as_the_roles_table_says(tg, settings, role, factor):
    """Each staff command and button (BOT_COMMAND_PERMISSIONS) as the persona's linked Telegram account.

    Updates go through the bot's Dispatcher as its webhook entry (`update_handle`) hands them over, with one Bot
    for the batch (a Bot per update costs aiohttp's 0.25 s close each).

    The bot has no second factor by design (docs/security.md, "2FA scope"): staff never sign in with Telegram,
    and a staff command goes by the Telegram account linked to the staff account (linking it is a superuser's
    change in admin). So with STAFF_2FA on, proven or not, the bot gives what the table gives."""
    from telegram_bot.bot import bot_create, dispatcher_create
    from tests.telegram_bot.fake_telegram import button, message

    settings.TELEGRAM_BROADCAST_PER_SECOND = 1000
    user = _persona(role, factor, settings)
    if user is not None:
        user.telegram_id = PERSONA_TG
        user.save(update_fields=["telegram_id"])
    _ban_if(role, user)
    UserFactory(telegram_id=FAN_TG, verification_status="verified")  # a broadcast's audience
    listed, approved, pressed, rejected = (_claim(n) for n in ("ListedGoat", "ApproveGoat", "PressGoat", "NoGoat"))
    updates = {
        "pending": message("/pending", user_id=PERSONA_TG),
        "approve": message(f"/approve {approved.pk}", user_id=PERSONA_TG),
        "verif": button(f"verif:approve:{pressed.pk}", user_id=PERSONA_TG),
        "reject": message(f"/reject {rejected.pk} not yours", user_id=PERSONA_TG),
        "broadcast": message("/broadcast Race tonight", user_id=PERSONA_TG),
    }
    assert set(updates) == set(BOT_COMMAND_PERMISSIONS)  # every staff command and button is tried

    async def feed() -> None:
        dp, bot = dispatcher_create(), bot_create()
        try:
            for update in updates.values():
                await dp.feed_raw_update(bot, update)
        finally:
            await bot.session.close()

    asyncio.run(feed())

    def status(claim) -> str:
        return VerificationRequest.objects.get(pk=claim.pk).status

    got = {
        "pending": any(listed.goated_name in text for text in tg.sent(PERSONA_TG)),
        "approve": status(approved) == "approved",
        "verif": status(pressed) == "approved",
        "reject": status(rejected) == "rejected",
        "broadcast": Broadcast.objects.exists() and tg.sent(FAN_TG) == ["Race tonight"],
    }
    allowed = {command for command, done in got.items() if done}
    assert allowed == expected(role, factor, BOT_COMMAND_PERMISSIONS, second_factor_applies=False)
    if allowed != set(BOT_COMMAND_PERMISSIONS):
        assert any("for staff" in text for text in tg.sent(PERSONA_TG)), tg.sent(PERSONA_TG)
    assert status(listed) == "pending"
