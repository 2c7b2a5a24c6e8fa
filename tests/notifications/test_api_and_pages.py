"""A player's notifications over the API and on /notifications/: only their own, paginated, marked read."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.models import Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db
API = "/api/v1/notifications/"


def _notes(user, count: int, **kwargs) -> list[Notification]:
    return [
        notification_create(user, kind="race", title=f"{user.username} note {i}", url="/races/", **kwargs)
        for i in range(count)
    ]


def test_the_api_lists_only_my_notifications_newest_first(player_api, player_user, other_user):
    mine, _ = _notes(player_user, 3), _notes(other_user, 2)
    body = player_api.get(API).json()
    assert body["unread"] == 3
    assert body["count"] == 3
    assert [n["id"] for n in body["results"]] == [n.pk for n in reversed(mine)]
    assert set(body["results"][0]) == {"id", "kind", "title", "body", "url", "created_at", "read"}
    assert body["results"][0]["read"] is False


def test_unread_filter_limit_and_offset(player_api, player_user):
    notes = _notes(player_user, 5)
    Notification.objects.filter(pk=notes[0].pk).update(read_at="2026-11-01T00:00Z")
    body = player_api.get(API, {"unread": 1}).json()
    assert body["unread"] == 4
    assert body["count"] == 4
    assert notes[0].pk not in [n["id"] for n in body["results"]]
    page = player_api.get(API, {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5
    assert [n["id"] for n in page["results"]] == [notes[3].pk, notes[2].pk]


@pytest.mark.parametrize("query", [{"unread": "2"}, {"unread": "yes"}, {"limit": "0"}, {"limit": "x"},
                                   {"offset": "-1"}, {"limit": "101"}])  # fmt: skip
def test_bad_query_parameters_get_a_clear_400(player_api, query):
    response = player_api.get(API, query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"]
    assert list(error["fields"]) == [next(iter(query))]


def test_mark_read_by_ids_ignores_other_players_ids(player_api, player_user, other_user):
    mine, theirs = _notes(player_user, 3), _notes(other_user, 1)
    response = player_api.post(f"{API}read/", {"ids": [mine[0].pk, theirs[0].pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "unread": 2}
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None
    response = player_api.post(f"{API}read/", {"all": True}, format="json")
    assert response.json() == {"updated": 2, "unread": 0}
    assert Notification.objects.filter(user=other_user, read_at__isnull=True).count() == 1


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"ids": "1"}, {"all": "maybe"},
                                  {"ids": list(range(1, 1002))}])  # fmt: skip
def test_bad_read_bodies_get_a_clear_400_and_change_nothing(player_api, player_user, body):
    _notes(player_user, 2)
    response = player_api.post(f"{API}read/", body, format="json")
    assert response.status_code == 400
    assert Notification.objects.filter(user=player_user, read_at__isnull=True).count() == 2


def test_signed_out_visitors_get_401_on_the_api_and_the_sign_in_page_on_the_list(api_client, client):
    assert api_client.get(API).status_code == 401
    assert api_client.post(f"{API}read/", {"all": True}, format="json").status_code == 401
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_list_page_paginates_and_marks_read(client, player_user, other_user):
    _notes(player_user, 25)
    _notes(other_user, 1)
    client.force_login(player_user)
    page1 = client.get("/notifications/").content.decode()
    assert page1.count('class="note unread"') == 20
    assert "other" not in page1
    assert f"{player_user.username} note 24" in page1
    assert f"{player_user.username} note 4" in client.get("/notifications/?page=2").content.decode()
    assert 'id="bell-count"' in page1
    assert ">25<" in page1
    first = Notification.objects.filter(user=player_user).order_by("pk").first()
    # "Open" marks read and goes where the notification points.
    response = client.post(f"/notifications/{first.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/races/"
    assert Notification.objects.get(pk=first.pk).read_at is not None
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=player_user, read_at__isnull=True).exists()
    assert "Nothing unread." in client.get("/notifications/?unread=1").content.decode()


def test_another_players_notification_cannot_be_marked_read_or_opened(client, player_user, other_user):
    (theirs,) = _notes(other_user, 1)
    client.force_login(player_user)
    response = client.post(f"/notifications/{theirs.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_list_needs_post_to_change_anything(player_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(player_user)
    (note,) = _notes(player_user, 1)
    assert client.get(f"/notifications/{note.pk}/read/").status_code == 405
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 403  # no CSRF token
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_the_bell_count_is_cached_and_every_change_shows_at_once(
    client, player_user, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.selectors import notifications_unread_count
    from notifications.services import notifications_mark_read

    def bell() -> str:
        page = client.get("/faq/").content.decode()
        return page.split('data-unread="', 1)[1].split('"', 1)[0]

    client.force_login(player_user)
    assert bell() == "0"
    notes = _notes(player_user, 2)
    assert bell() == "2"
    with CaptureQueriesContext(connection) as ctx:
        assert notifications_unread_count(player_user) == 2
    assert len(ctx) == 0  # from the cache
    Notification.objects.create(user=player_user, kind="race", title="Saved directly")  # a save forgets it too
    assert bell() == "3"
    notifications_mark_read(player_user, ids=[notes[0].pk])
    assert bell() == "2"
    notes[1].delete()
    assert bell() == "1"
    with django_capture_on_commit_callbacks(execute=True):
        notifications_mark_read(player_user, everything=True)
        assert notifications_unread_count(player_user) == 0  # counted inside the transaction ...
    assert bell() == "0"  # ... and forgotten again at commit
