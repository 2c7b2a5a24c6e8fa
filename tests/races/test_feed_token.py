"""The affiliate token pasted in admin: encrypted at rest, used by the next sync of another process without a
restart, expiry warnings on the dashboard and on Telegram (once each)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from core.models import AuditEntry
from races.feed.credentials import TokenRefused, feed_token_current, feed_token_expiry_warn, feed_token_store
from races.models import FeedCredential
from tests.factories import staff_member
from tests.races.test_leaderboard import _jwt
from tests.realtime.servers import child_env, manage

FEED = "/referral-leaderboard"
WAGERED = {"today": 1, "this_week": 2, "this_month": 3, "all_time": 4}
ROWS = {"success": True, "data": [{"uid": "u1", "name": "Goat", "wagered": WAGERED}]}


def _token(hours: float) -> str:
    return _jwt({"sub": "affiliate", "exp": int((timezone.now() + timedelta(hours=hours)).timestamp())})


@pytest.fixture
def upstream(httpserver):
    """A local affiliate API that answers only the token it was told is valid; it records what it was sent."""
    state = {"valid": None, "seen": []}

    def handle(request):
        sent = request.headers.get("Authorization", "")
        state["seen"].append(sent)
        if sent != f"Bearer {state['valid']}":
            return Response(json.dumps({"success": False, "error": "invalid token"}), status=401)
        return Response(json.dumps(ROWS), content_type="application/json")

    httpserver.expect_request(FEED).respond_with_handler(handle)
    state["url"] = httpserver.url_for(FEED)
    return state


@pytest.mark.django_db(transaction=True)
def test_a_token_pasted_in_admin_is_used_by_the_next_sync_of_another_process(client, upstream, settings):
    env = child_env(AFFILIATE_API_URL=upstream["url"], AFFILIATE_API_TOKEN="old-token-from-env", FEED_MAX_RETRIES="0")
    new = _token(20)
    upstream["valid"] = new
    failed = manage("sync_wagers", env=env)  # the environment's token is refused upstream
    assert failed.returncode != 0
    assert upstream["seen"][-1] == "Bearer old-token-from-env"

    operator = staff_member("Operators")
    client.force_login(operator)
    response = client.post(reverse("admin:races_feedcredential_add"), {"token": new})
    assert response.status_code == 302
    stored = FeedCredential.objects.get()
    assert new not in stored.token_encrypted
    assert new.split(".")[1] not in stored.token_encrypted
    assert stored.expires_at is not None
    assert stored.created_by == operator
    entry = AuditEntry.objects.get(action="feed.token_set")
    assert new not in json.dumps(entry.after)
    assert entry.after["fingerprint"] == stored.fingerprint

    synced = manage("sync_wagers", env=env)  # no restart: a fresh process reads the stored token
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert upstream["seen"][-1] == f"Bearer {new}"


@pytest.mark.django_db
def test_bad_tokens_are_refused_with_a_clear_message(client):
    client.force_login(staff_member("Operators"))
    add = reverse("admin:races_feedcredential_add")
    for token, message in ((_token(-1), "This token expired at"), ("two words", "does not look like a token"),
                           ("x" * 9000, "at most")):  # fmt: skip
        page = client.post(add, {"token": token}).content.decode()
        assert message in page, token[:20]
        assert token not in page  # a secret is never echoed back
    assert not FeedCredential.objects.exists()
    with pytest.raises(TokenRefused, match="Paste the token"):
        feed_token_store("  ", actor=None)


@pytest.mark.django_db
def test_keys_rotate_and_an_unreadable_token_falls_back_to_the_environment(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEY, settings.AFFILIATE_API_TOKEN = old_key, "env-token"
    feed_token_store("stored-token", actor=None)
    settings.TOKEN_ENCRYPTION_KEY = f"{new_key},{old_key}"  # a new key first: the old one still reads
    assert (feed_token_current().token, feed_token_current().source) == ("stored-token", "admin")
    settings.TOKEN_ENCRYPTION_KEY = new_key  # the old key gone: unreadable, the environment's token is used
    assert (feed_token_current().token, feed_token_current().source) == ("env-token", "environment")


@pytest.mark.django_db(transaction=True)
def test_operators_are_warned_at_24h_and_2h_once_each_and_the_dashboard_turns_amber_then_red(tg, client, settings):
    settings.AFFILIATE_API_URL = "https://affiliate.example/referral-leaderboard"
    operator = staff_member("Operators")
    operator.telegram_id = 6060
    operator.save(update_fields=["telegram_id"])
    support = staff_member("Support")
    support.telegram_id = 7070
    support.save(update_fields=["telegram_id"])
    credential = feed_token_store(_token(30), actor=operator)
    now = timezone.now()
    assert feed_token_expiry_warn(now) == []
    client.force_login(operator)
    assert 'class="token-ok"' in client.get(reverse("admin:index")).content.decode()

    at_23h = credential.expires_at - timedelta(hours=23)
    assert feed_token_expiry_warn(at_23h) == ["24h"]
    assert feed_token_expiry_warn(at_23h + timedelta(minutes=5)) == []
    assert "The affiliate API token expires in 23 h 00 min" in tg.last(6060)
    at_90min = credential.expires_at - timedelta(minutes=90)
    assert feed_token_expiry_warn(at_90min) == ["2h"]
    assert feed_token_expiry_warn(at_90min) == []
    assert "expires in 1 h 30 min" in tg.last(6060)
    assert len(tg.sent(6060)) == 2
    assert tg.sent(7070) == []

    FeedCredential.objects.filter(pk=credential.pk).update(expires_at=timezone.now() + timedelta(hours=5))
    assert 'class="token-amber"' in client.get(reverse("admin:index")).content.decode()
    FeedCredential.objects.filter(pk=credential.pk).update(expires_at=timezone.now() + timedelta(minutes=30))
    assert 'class="token-red"' in client.get(reverse("admin:index")).content.decode()


def test_the_encryption_key_is_checked(settings):
    from django.core import checks

    def ids(deploy: bool) -> set[str]:
        return {m.id for m in checks.run_checks(include_deployment_checks=deploy) if m.id.startswith("races.")}

    settings.TOKEN_ENCRYPTION_KEY = "not-a-key"
    assert ids(False) == {"races.E001"}
    settings.TOKEN_ENCRYPTION_KEY = ""
    assert ids(False) == set()
    assert ids(True) == {"races.W001"}
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert ids(True) == set()
