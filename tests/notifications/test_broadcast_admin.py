"""The broadcast composer in admin: preview per channel, send once, progress, audit, clear errors."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import User
from core.models import AuditEntry
from notifications.models import Broadcast, Notification, NotificationPreferences
from tests.factories import UserFactory, staff_member

pytestmark = pytest.mark.django_db(transaction=True)
ADD = reverse("admin:notifications_broadcast_add")


@pytest.fixture
def operator(client):
    user = staff_member("Operators")
    client.force_login(user)
    return user


@pytest.fixture
def players(db):
    UserFactory(username="mailonly", email="m@example.com", email_verified=True)
    UserFactory(username="both", email="b@example.com", email_verified=True, telegram_id=9001)
    UserFactory(username="unconfirmed", email="u@example.com", email_verified=False)
    # All three opted in to promotions (marketing is off until a player turns it on).
    NotificationPreferences.objects.bulk_create(
        [NotificationPreferences(user=u, promotional_offers=True) for u in User.objects.all()]
    )


def _form(client, **data) -> dict:
    key = re.search(r'name="form_key" value="(\w+)"', client.get(ADD).content.decode()).group(1)
    return {"text": "Race night at 8!", "title": "Race night", "audience": "everyone",
            "channels": ["site", "email"], "promotional": "on", "form_key": key, **data}  # fmt: skip


def test_preview_counts_each_channel_and_sends_nothing(client, operator, players):
    response = client.post(ADD, {**_form(client), "channels": ["site", "email", "telegram"], "_preview": "1"})
    assert response.status_code == 200
    preview = dict(re.findall(r'<th scope="row">(\w+)</th><td>(\d+)</td>', response.content.decode()))
    # Everyone active (the operator too) on the site; confirmed addresses by email; linked chats on Telegram.
    assert preview == {"site": "4", "email": "2", "telegram": "1"}
    assert not Broadcast.objects.exists()


def test_send_starts_one_broadcast_shows_progress_and_is_audited(client, operator, players, mailoutbox):
    data = _form(client)
    response = client.post(ADD, {**data, "_send": "1"})
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:notifications_broadcast_change", args=[broadcast.pk])
    assert Notification.objects.filter(kind="announcement", title="Race night").count() == 4
    assert sorted(m.to[0] for m in mailoutbox) == ["b@example.com", "m@example.com"]
    page = client.get(response["Location"]).content.decode()
    assert 'id="broadcast-progress"' in page
    assert re.search(r"<td>email</td><td>2</td><td>0</td><td>0</td>", page)
    assert AuditEntry.objects.get(action="broadcast.create").actor == operator
    assert AuditEntry.objects.get(action="broadcast.sent").actor == operator

    # "Send" pressed again with the same form: the same broadcast, nothing sent twice.
    again = client.post(ADD, {**data, "_send": "1"}, follow=True)
    assert "was already sent from this form" in again.content.decode()
    assert Broadcast.objects.count() == 1
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"text": "   "}, "This field is required."),
        ({"channels": []}, "This field is required."),
        ({"audience": "tier"}, "Choose the VIP tier the broadcast is for."),
        ({"audience": "race"}, "Choose the race whose participants get it."),
        ({"audience": "nobody"}, "Select a valid choice."),
        ({"link": "https://evil.example/"}, "The link must be a page of this site"),
        ({"text": "x" * 4001}, "at most 4000 characters"),
    ],
)
def test_bad_compositions_are_refused_with_a_clear_message(client, operator, players, changes, error):
    response = client.post(ADD, {**_form(client), **changes, "_send": "1"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Broadcast.objects.exists()
    assert not Notification.objects.exists()


def test_support_staff_cannot_broadcast(client, players):
    client.force_login(staff_member("Support"))
    assert client.get(ADD).status_code == 403
    assert (
        client.post(ADD, {"text": "hi", "audience": "everyone", "channels": ["site"], "_send": "1"}).status_code == 403
    )
    assert not Broadcast.objects.exists()


def test_a_broadcast_is_a_record_it_cannot_be_edited_or_deleted(client, operator, players):
    client.post(ADD, {**_form(client), "_send": "1"})
    broadcast = Broadcast.objects.get()
    change = reverse("admin:notifications_broadcast_change", args=[broadcast.pk])
    assert client.post(change, {"text": "changed"}).status_code == 403
    delete = reverse("admin:notifications_broadcast_delete", args=[broadcast.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.text == "Race night at 8!"
