"""Notification links stay on the site: a link is checked when it is saved (notify, a notification written in
admin, a broadcast's link) and again when "Open" redirects to it (rows from before the check)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.links import is_site_path
from notifications.broadcasts import BroadcastRefused, broadcast_compose
from notifications.models import Broadcast, Notification
from notifications.services import notification_create, notify
from tests.factories import UserFactory, staff_member

pytestmark = pytest.mark.django_db
HOSTILE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "///evil.example/x",
    "/\t/evil.example/x",
    "https://evil.example/x",
    "javascript:alert(1)",
    " /races/",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_link_off_the_site_is_not_a_site_path(url):
    assert not is_site_path(url)


@pytest.mark.parametrize("url", ["/races/", "/races/12/?tab=standings#top", "/bonus-codes/"])
def test_a_page_of_the_site_is_a_site_path(url):
    assert is_site_path(url)


@pytest.mark.parametrize("url", HOSTILE)
def test_notify_and_notification_create_never_store_a_link_off_the_site(player_user, url):
    note = notify(player_user, "ticket.reply", title="A reply", body="Look", url=url)
    direct = notification_create(player_user, kind="system", title="Hi", url=url)
    assert note.url == ""
    assert direct.url == ""
    assert set(Notification.objects.values_list("url", flat=True)) == {""}
    assert notification_create(player_user, kind="system", title="Fine", url="/races/").url == "/races/"


@pytest.mark.parametrize("url", HOSTILE)
def test_open_never_redirects_off_the_site_even_for_a_row_saved_before_the_check(client, player_user, url):
    note = Notification.objects.create(user=player_user, title="Old row", url=url)  # written around the services
    client.force_login(player_user)
    response = client.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert Notification.objects.get(pk=note.pk).read_at is not None  # still marked read


def test_open_still_goes_to_a_page_of_the_site(client, player_user):
    note = notification_create(player_user, kind="race", title="Race", url="/races/12/")
    client.force_login(player_user)
    assert client.post(f"/notifications/{note.pk}/read/", {"open": "1"})["Location"] == "/races/12/"


@pytest.mark.parametrize("link", ["//evil.example/x", "/\\evil.example/x"])
def test_a_broadcast_link_off_the_site_is_refused(link):
    UserFactory(verification_status="verified", telegram_id=4242)
    with pytest.raises(BroadcastRefused, match="must be a page of this site"):
        broadcast_compose(text="Race night!", link=link, audience="everyone", channels=["site"])
    assert not Broadcast.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_broadcast_composer_refuses_a_protocol_relative_link(client):
    client.force_login(staff_member("Operators"))
    add = reverse("admin:notifications_broadcast_add")
    key = re.search(r'name="form_key" value="(\w+)"', client.get(add).content.decode()).group(1)
    data = {"text": "Race night!", "audience": "everyone", "channels": ["site"], "form_key": key}
    response = client.post(add, {**data, "link": "//evil.example/x", "_send": "1"})
    assert response.status_code == 200
    assert "The link must be a page of this site" in response.content.decode()
    assert not Broadcast.objects.exists()


def test_a_notification_written_in_admin_must_link_to_the_site(client, player_user):
    client.force_login(staff_member("Operators"))  # Operators may add notifications (core.roles)
    add = reverse("admin:notifications_notification_add")
    data = {"user": player_user.pk, "kind": "system", "title": "Hello", "body": "", "url": "//evil.example/x"}
    response = client.post(add, data)
    assert response.status_code == 200
    assert "The link must be a page of this site" in response.content.decode()
    assert not Notification.objects.exists()
    assert client.post(add, {**data, "url": "/races/"}).status_code == 302
    assert Notification.objects.get().url == "/races/"
