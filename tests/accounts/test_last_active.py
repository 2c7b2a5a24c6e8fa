"""`User.last_active` means something: written when a signed-in user uses the site or the API, at most once a
minute per user (never a write per request), never for anonymous requests, and shown in admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "last_active" in q["sql"]]


def _get(client, path: str = "/notifications/") -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return _writes(queries.captured_queries)


def test_two_requests_within_a_minute_write_once_and_a_request_a_minute_later_writes_again(client):
    user = UserFactory()
    client.force_login(user)
    with time_machine.travel(START, tick=False) as clock:
        assert len(_get(client)) == 1
        assert User.objects.get(pk=user.pk).last_active == START
        clock.shift(timedelta(seconds=30))
        assert _get(client) == []  # within the minute: not even a query
        assert User.objects.get(pk=user.pk).last_active == START
        clock.shift(timedelta(seconds=31))
        assert len(_get(client)) == 1
        assert User.objects.get(pk=user.pk).last_active == START + timedelta(seconds=61)


def test_anonymous_requests_write_nothing(client):
    UserFactory()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/leaderboard/").status_code == 200
    assert _writes(queries.captured_queries) == []
    assert not User.objects.filter(last_active__isnull=False).exists()


def test_a_user_signed_in_by_an_api_token_counts_as_active(api_client, password):
    user = UserFactory()
    body = {"username": user.username, "password": password}
    token = api_client.post("/api/v1/auth/token/", body, format="json").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with time_machine.travel(START, tick=False):
        assert api_client.get("/api/v1/me/").status_code == 200
    assert User.objects.get(pk=user.pk).last_active == START


def test_concurrent_requests_of_one_user_write_once(client):
    """Two processes that both loaded a stale row: the conditional UPDATE lets one of them write."""
    from accounts.activity import user_active_mark

    user = UserFactory()
    first, second = User.objects.get(pk=user.pk), User.objects.get(pk=user.pk)
    assert user_active_mark(first, now=START) is True
    assert user_active_mark(second, now=START + timedelta(seconds=5)) is False
    assert User.objects.get(pk=user.pk).last_active == START


def test_the_admin_user_list_shows_last_active(client):
    user = UserFactory(username="activegoat")
    client.force_login(user)
    with time_machine.travel(START, tick=False):
        client.get("/notifications/")
    client.force_login(StaffFactory())
    page = client.get("/admin/accounts/user/?q=activegoat").content.decode()
    assert "Last active" in page
    assert '<td class="field-last_active nowrap">20 Nov 2026, 12:00<' in page
