"""Feature switches: operators turn a feature off in admin and every process refuses it at once — pages with a
clear page, the API with 503 `feature_disabled` — and turn it back on the same way."""

from __future__ import annotations

import re

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from waffle.models import Switch

from core.models import AuditEntry
from tests.factories import StaffFactory, UserFactory, staff_member
from tests.realtime.servers import child_env, session_key_for, web_servers


def _switch(client, name: str, action: str) -> None:
    switch, _ = Switch.objects.get_or_create(name=name, defaults={"active": True})
    response = client.post(reverse("admin:waffle_switch_changelist"),
                           {"action": action, "_selected_action": [switch.pk]})  # fmt: skip
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)  # waffle clears its cache after commit
def test_the_wheel_switched_off_refuses_the_page_and_the_api_and_comes_back(client):
    operator = staff_member("Operators")
    player = UserFactory(email_verified=True)
    client.force_login(operator)
    _switch(client, "wheel", "switch_off")
    assert AuditEntry.objects.filter(action="switch.change", after__active=False).exists()
    client.force_login(player)
    page = client.get("/wheel/")
    assert page.status_code == 503
    assert "The daily wheel is switched off for now." in page.content.decode()
    assert 'href="/wheel/"' not in page.content.decode()  # the nav hides it too
    api = client.post("/api/v1/wheel/spin/", {}, content_type="application/json")
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "feature_disabled"
    assert api["Retry-After"] == "300"
    assert client.get("/bonus-codes/").status_code == 200  # only what was switched off
    client.force_login(operator)
    _switch(client, "wheel", "switch_on")
    client.force_login(player)
    assert client.get("/wheel/").status_code == 200


@pytest.mark.django_db(transaction=True)  # waffle clears its cache after commit
@pytest.mark.parametrize(
    ("name", "path", "method"),
    [("bonus_codes", "/api/v1/bonus-codes/", "get"), ("signups", "/accounts/register/", "get"),
     ("newsletter", "/accounts/newsletter/", "post")],
)  # fmt: skip
def test_each_feature_gate_covers_its_pages(client, name, path, method):
    client.force_login(StaffFactory())
    _switch(client, name, "switch_off")
    client.logout()
    response = getattr(client, method)(path, {"email": "a@example.com"} if method == "post" else None)
    assert response.status_code == 503


@pytest.mark.django_db(transaction=True)  # waffle clears its cache after commit
def test_a_newsletter_switched_off_still_lets_people_unsubscribe(client):
    from notifications.email import unsubscribe_token
    from notifications.models import NewsletterSubscription

    NewsletterSubscription.objects.create(email="fan@example.com", is_subscribed=True, confirmed_at=timezone.now())
    client.force_login(StaffFactory())
    _switch(client, "newsletter", "switch_off")
    client.logout()
    token = unsubscribe_token("fan@example.com", "newsletter")
    assert client.post(f"/accounts/newsletter/unsubscribe/{token}/").status_code == 200
    assert not NewsletterSubscription.objects.get().is_subscribed


@pytest.mark.django_db(transaction=True)  # waffle clears its cache after commit
def test_the_maintenance_banner_shows_its_note_on_every_page(client):
    client.force_login(StaffFactory())
    Switch.objects.update_or_create(name="maintenance_banner", defaults={"active": False, "note": "Back at 23:00"})
    assert "maintenance-banner" not in client.get("/").content.decode()
    _switch(client, "maintenance_banner", "switch_on")
    for path in ("/", "/leaderboard/", "/races/"):
        assert "Back at 23:00" in client.get(path).content.decode()


@pytest.mark.django_db(transaction=True)
def test_switching_off_in_one_process_refuses_at_once_in_another():
    """Two web processes sharing PostgreSQL/SQLite and the Redis cache: the switch flipped through the admin of
    one is honoured by the next request to the other."""
    root = StaffFactory(username="root")
    player = UserFactory(email_verified=True)
    Switch.objects.create(name="wheel", active=True)
    with web_servers(2, child_env()) as (admin_port, other_port):
        admin = httpx.Client(base_url=f"http://127.0.0.1:{admin_port}", cookies={"sessionid": session_key_for(root)})
        other = httpx.Client(base_url=f"http://127.0.0.1:{other_port}", cookies={"sessionid": session_key_for(player)})
        assert other.get("/wheel/").status_code == 200  # cached as "on" in the shared cache now
        page = admin.get("/admin/waffle/switch/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        switch = Switch.objects.get(name="wheel")
        done = admin.post("/admin/waffle/switch/", headers={"Referer": str(admin.base_url)},
                          data={"csrfmiddlewaretoken": token, "action": "switch_off",
                                "_selected_action": str(switch.pk)})  # fmt: skip
        assert done.status_code == 302, done.text[:500]
        assert other.get("/wheel/").status_code == 503
        assert other.post("/api/v1/wheel/spin/", json={}).json()["error"]["code"] == "feature_disabled"
