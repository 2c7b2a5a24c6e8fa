"""18+ and the terms: sign-up requires both (stored with the time and the version); an account without the current
version is asked once at its next sign-in — pages lead to the terms page, the API answers 403 terms_not_accepted."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from accounts import terms
from accounts.models import User
from core.models import AuditEntry
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
STRONG = "tangerine-Zebra-4419"
SIGN_UP = {"username": "adultgoat", "email": "adultgoat@example.com", "password1": STRONG, "password2": STRONG}


@pytest.fixture
def old_account():
    """An account from before the terms were asked for (as every account is after the migration)."""
    return UserFactory(username="oldgoat", adult_confirmed_at=None, terms_accepted_at=None, terms_version="")


@pytest.mark.parametrize("missing", ["adult", "terms"])
def test_sign_up_needs_both_the_18_plus_confirmation_and_the_terms(client, missing):
    data = {**SIGN_UP, "adult": "on", "terms": "on"}
    del data[missing]
    response = client.post("/accounts/register/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert ("18 or older" if missing == "adult" else "Accept the terms") in page
    assert not User.objects.filter(username="adultgoat").exists()


def test_sign_up_stores_the_time_and_the_terms_version(client):
    response = client.post("/accounts/register/", {**SIGN_UP, "adult": "on", "terms": "on"})
    assert response.status_code == 302
    user = User.objects.get(username="adultgoat")
    assert user.terms_version == terms.TERMS_VERSION
    assert user.adult_confirmed_at is not None
    assert user.terms_accepted_at is not None
    assert client.get("/accounts/settings/").status_code == 200  # not asked again
    assert AuditEntry.objects.filter(action="terms.accept", target_id=str(user.pk)).count() == 1


def test_an_old_account_is_asked_once_at_its_next_sign_in(client, old_account, password):
    assert client.post("/accounts/login/", {"username": "oldgoat", "password": password}).status_code == 302
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/terms/?next=%2Faccounts%2Fsettings%2F"
    page = client.get(response["Location"])
    assert "Before you go on" in page.content.decode()
    # The pages it links to, and signing out, stay reachable.
    assert client.get("/terms/").status_code == 200
    refused = client.post("/accounts/terms/", {"adult": "on", "next": "/accounts/settings/"})
    assert refused.status_code == 400
    assert "Accept the terms of use to go on." in refused.content.decode()
    accepted = client.post("/accounts/terms/", {"adult": "on", "terms": "on", "next": "/accounts/settings/"})
    assert (accepted.status_code, accepted["Location"]) == (302, "/accounts/settings/")
    old_account.refresh_from_db()
    assert old_account.terms_version == terms.TERMS_VERSION
    assert client.get("/accounts/settings/").status_code == 200
    again = client.get("/accounts/terms/?next=/leaderboard/")  # once: the page just passes through now
    assert (again.status_code, again["Location"]) == (302, "/leaderboard/")


def test_a_new_terms_version_asks_again(client, player_user, monkeypatch):
    client.force_login(player_user)
    assert client.get("/accounts/settings/").status_code == 200
    monkeypatch.setattr(terms, "TERMS_VERSION", "2099-01")
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert "Our terms have changed" in client.get("/accounts/terms/").content.decode()


def test_the_terms_page_sends_nowhere_else_than_this_site(client, old_account):
    client.force_login(old_account)
    response = client.post("/accounts/terms/", {"adult": "on", "terms": "on", "next": "https://evil.example/"})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_the_api_refuses_a_session_or_a_token_until_the_terms_are_accepted(client, api_client, old_account):
    client.force_login(old_account)
    session = client.get("/api/v1/me/")
    assert (session.status_code, session.json()["error"]["code"]) == (403, "terms_not_accepted")
    token = Token.objects.create(user=old_account)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for response in (api_client.get("/api/v1/me/"), api_client.post("/api/v1/wheel/spin/", {}, format="json")):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "terms_not_accepted")
    assert "/accounts/terms/" in api_client.get("/api/v1/me/").json()["error"]["message"]
    assert api_client.get("/api/v1/leaderboard/").status_code == 200  # public reads authenticate nobody
    terms.terms_accept(old_account, adult=True, accepted=True)
    assert api_client.get("/api/v1/me/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_staff_are_not_stopped_by_the_players_terms(client):
    staff = StaffFactory(adult_confirmed_at=None, terms_accepted_at=None, terms_version="")
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_accepting_needs_both_and_changes_nothing_otherwise(old_account):
    with pytest.raises(terms.ServiceError) as refused:
        terms.terms_accept(old_account, adult=False, accepted=True)
    assert set(refused.value.fields) == {"adult"}
    old_account.refresh_from_db()
    assert old_account.terms_version == ""
    assert not AuditEntry.objects.filter(action="terms.accept").exists()
