"""The feed in the back office: sync now, last success/failure, token expiry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEntry
from races.models import Player, TransformationLog
from tests.factories import staff_member
from tests.races.test_leaderboard import _jwt
from tests.races.test_sync import FEED_PATH, THREE

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:races_transformationlog_changelist")
SYNC = reverse("admin:races_transformationlog_sync")


@pytest.fixture
def operator_client(client):
    client.force_login(staff_member("Operators"))
    return client


def test_an_operator_runs_a_sync_from_admin_and_sees_the_result(operator_client, settings):
    settings.AFFILIATE_API_URL = ""
    page = operator_client.get(CHANGELIST).content.decode()
    assert 'id="sync-now"' in page
    assert "Built-in demo feed" in page
    assert "Last success" in page
    response = operator_client.post(SYNC, follow=True)
    body = response.content.decode()
    assert "Sync done: 300 created" in body
    assert Player.objects.count() == 300
    entry = AuditEntry.objects.get(action="sync.run")
    assert entry.actor.groups.filter(name="Operators").exists()
    assert entry.after["created"] == 300


def test_a_failing_feed_shows_why_and_the_token_expiry(operator_client, settings, httpserver):
    settings.AFFILIATE_API_URL = httpserver.url_for(FEED_PATH)
    settings.AFFILIATE_API_TOKEN = _jwt({"exp": 1700000000})  # long expired
    settings.FEED_MAX_RETRIES = 0
    httpserver.expect_request(FEED_PATH).respond_with_json({"success": False, "message": "jwt expired"})
    body = operator_client.post(SYNC, follow=True).content.decode()
    assert "Sync failed: upstream reported success: false: jwt expired" in body
    page = operator_client.get(CHANGELIST).content.decode()
    assert "the latest sync failed" in page
    assert "expired" in page
    assert "14 Nov 2023" in page
    httpserver.clear()
    httpserver.expect_request(FEED_PATH).respond_with_json(THREE)
    operator_client.post(SYNC)
    assert "the latest sync failed" not in operator_client.get(CHANGELIST).content.decode()


def test_the_dashboard_shows_the_feed_status(operator_client, settings):
    settings.AFFILIATE_API_URL = ""
    operator_client.post(SYNC)
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert 'id="feed-status"' in page
    assert "Feed sync: 300 created" in page


def test_support_staff_cannot_run_a_sync(client):
    client.force_login(staff_member("Support"))
    assert client.post(SYNC).status_code == 403
    assert not TransformationLog.objects.exists()


def test_sync_now_only_accepts_post(operator_client):
    assert operator_client.get(SYNC).status_code == 405


def test_an_operator_marks_failures_resolved(operator_client):
    log = TransformationLog.objects.create(type="error", message="Feed sync failed: x", payload={"kind": "sync"})
    operator_client.post(CHANGELIST, {"action": "mark_resolved", "_selected_action": [log.pk]})
    log.refresh_from_db()
    assert log.resolved
