"""Staff powers need the second factor everywhere they are used (docs/security.md, "2FA scope").

Tried as a Support member would with only a password: the site, the session API and the token API give nothing
until a code is proven; a token from before 2FA applied carries nothing; players are never asked.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.roles import SUPPORT
from support.models import TicketMessage
from tests.factories import TEST_PASSWORD, StaffFactory, SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _staff_2fa_on(settings):
    settings.STAFF_2FA = True


@pytest.fixture
def agent():
    member = UserFactory(username="agent", is_staff=True)
    member.groups.add(Group.objects.get(name=SUPPORT))
    return member


@pytest.fixture
def players_ticket():
    return SupportTicketFactory(user=UserFactory(username="victim"), subject="My private problem")


def _enrol(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=recovery, token="recover1")
    return device


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _token(username: str, **extra):
    return APIClient().post(TOKEN, {"username": username, "password": TEST_PASSWORD, **extra}, format="json")


def _reply(key: str, ticket) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.post(f"/api/v1/support/tickets/{ticket.pk}/messages/", {"body": "Support team here"}, format="json")


# --- the token endpoint ---------------------------------------------------------------------------------------


def test_a_staff_member_with_only_a_password_gets_no_api_token(agent, players_ticket):
    _enrol(agent)
    response = _token("agent")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_required"
    assert "otp" in response.json()["error"]["fields"]
    wrong = _token("agent", otp="000000")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "otp_invalid"
    assert not Token.objects.filter(user=agent).exists()
    assert not TicketMessage.objects.exists()


def test_a_staff_member_without_a_device_is_told_to_enrol_first(agent):
    response = _token("agent", otp="123456")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_not_enrolled"
    assert not Token.objects.filter(user=agent).exists()


def test_a_staff_token_issued_with_the_second_factor_carries_staff_powers(agent, players_ticket):
    device = _enrol(agent)
    response = _token("agent", otp=_code(device))
    assert response.status_code == 200
    key = response.json()["token"]
    reply = _reply(key, players_ticket)
    assert reply.status_code == 201
    assert reply.json()["is_staff_reply"] is True
    # A recovery code works too, once; each issue replaces the account's token.
    again = _token("agent", otp="recover1")
    assert again.status_code == 200
    assert again.json()["token"] != key
    assert _reply(key, players_ticket).status_code == 401
    assert _token("agent", otp="recover1").status_code == 400


def test_a_staff_token_from_before_2fa_applied_carries_nothing(agent, players_ticket, settings):
    _enrol(agent)
    settings.STAFF_2FA = False
    old = _token("agent").json()["token"]  # 2FA off: a plain token, as on the parent commit
    assert _reply(old, players_ticket).status_code == 201
    settings.STAFF_2FA = True
    refused = _reply(old, players_ticket)
    assert refused.status_code == 401
    assert "second factor" in refused.json()["error"]["message"]
    assert TicketMessage.objects.count() == 1
    # A player's token of an account made staff later is the same case.
    promoted = UserFactory(username="promoted")
    key = Token.objects.create(user=promoted).key
    promoted.is_staff = True
    promoted.save(update_fields=["is_staff"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/support/tickets/").status_code == 401


def test_a_forged_staff_token_is_refused_and_a_reset_second_factor_ends_the_token(agent, players_ticket):
    from accounts.two_factor import staff_token_proven, two_factor_reset

    device = _enrol(agent)
    key = _token("agent", otp=_code(device)).json()["token"]
    token = Token.objects.get(key=key)
    assert staff_token_proven(token)
    other = StaffFactory(username="root")
    assert not staff_token_proven(Token(key=key, user=other))  # the proof names the account
    assert not staff_token_proven(Token(key=key[:20] + "0" * 20, user=agent))
    two_factor_reset(agent, actor=other)
    assert _reply(key, players_ticket).status_code == 401


def test_players_get_tokens_without_a_code(players_ticket):
    player = players_ticket.user
    response = _token(player.username)
    assert response.status_code == 200
    key = response.json()["token"]
    assert _token(player.username).json()["token"] == key  # the same token, as before
    reply = _reply(key, players_ticket)
    assert reply.status_code == 201
    assert reply.json()["is_staff_reply"] is False


def test_with_2fa_off_staff_tokens_need_no_code(agent, players_ticket, settings):
    settings.STAFF_2FA = False
    key = _token("agent").json()["token"]
    assert _reply(key, players_ticket).json()["is_staff_reply"] is True


# --- site sessions ----------------------------------------------------------------------------------------------


def _signed_in(username: str) -> Client:
    browser = Client()
    assert browser.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD}).status_code == 302
    return browser


def test_a_staff_site_sign_in_opens_nothing_before_the_second_factor(agent, players_ticket):
    device = _enrol(agent)
    browser = _signed_in("agent")
    for path in ("/support/", f"/support/{players_ticket.pk}/", "/", "/accounts/settings/", "/admin/"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/?next="), path
    reply = browser.post(f"/support/{players_ticket.pk}/", {"body": "Support team here"})
    assert reply.status_code == 302
    assert not TicketMessage.objects.exists()
    # The session API too.
    api = browser.get("/api/v1/support/tickets/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "two_factor_required"
    # With the code, the desk opens with every ticket.
    assert browser.post("/accounts/2fa/", {"token": _code(device), "next": "/support/"})["Location"] == "/support/"
    desk = browser.get("/support/")
    assert desk.status_code == 200
    assert "My private problem" in desk.content.decode()
    assert browser.get("/api/v1/support/tickets/").json()["count"] == 1


def test_a_staff_member_without_a_device_is_sent_to_enrol(agent):
    browser = _signed_in("agent")
    page = browser.get("/support/", follow=True)
    assert page.redirect_chain[-1][0].startswith("/accounts/2fa/setup/")
    assert browser.post("/accounts/logout/").status_code == 302  # signing out stays open


def test_players_are_never_asked_for_a_second_factor(players_ticket):
    browser = _signed_in("victim")
    desk = browser.get("/support/")
    assert desk.status_code == 200
    assert "My private problem" in desk.content.decode()
    assert browser.get("/api/v1/support/tickets/").status_code == 200


def test_the_second_factor_lasts_for_its_session_only(agent):
    device = _enrol(agent)
    browser = _signed_in("agent")
    browser.post("/accounts/2fa/", {"token": _code(device), "next": "/support/"})
    assert browser.get("/support/").status_code == 200
    fresh = _signed_in("agent")
    assert fresh.get("/support/").status_code == 302
