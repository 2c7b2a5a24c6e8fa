"""Self-exclusion: refused before every other rule on every reward and entry path, no promotional or race message
on any channel, a hidden name, no shortening, lifted early only by a superuser with a reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.selfexclusion import PERMANENT_UNTIL, self_exclusion_lift, self_exclusion_start
from core.errors import Conflict, Forbidden, ServiceError
from core.models import AuditEntry
from giveaways.models import Raffle
from giveaways.services import raffle_open
from notifications.models import Notification
from notifications.services import notify
from races.models import WagerRace
from tests.factories import (
    BonusCodeFactory,
    PlayerFactory,
    StaffFactory,
    UserFactory,
    WagerRaceFactory,
    staff_member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def excluded(verified_player, password):
    self_exclusion_start(verified_player, "7d", password=password)
    verified_player.refresh_from_db()
    return verified_player


def test_the_api_starts_a_break_with_the_password(api_client, verified_player, password):
    api_client.force_authenticate(verified_player)
    wrong = api_client.post("/api/v1/me/self-exclusion/", {"period": "7d", "password": "nope"}, format="json")
    assert wrong.status_code == 400
    assert "password" in wrong.json()["error"]["fields"]
    bad = api_client.post("/api/v1/me/self-exclusion/", {"period": "2w", "password": password}, format="json")
    assert bad.status_code == 400
    started = api_client.post("/api/v1/me/self-exclusion/", {"period": "30d", "password": password}, format="json")
    assert started.status_code == 201
    assert started.json()["period"] == "30d"
    me = api_client.get("/api/v1/me/").json()
    assert me["self_excluded_until"] is not None
    shorter = api_client.post("/api/v1/me/self-exclusion/", {"period": "1d", "password": password}, format="json")
    assert (shorter.status_code, shorter.json()["error"]["code"]) == (409, "cannot_shorten")
    longer = api_client.post("/api/v1/me/self-exclusion/", {"period": "permanent", "password": password},
                             format="json")  # fmt: skip
    assert longer.status_code == 201
    verified_player.refresh_from_db()
    assert verified_player.self_excluded_until == PERMANENT_UNTIL
    assert AuditEntry.objects.filter(action="self_exclusion.start").count() == 2


def test_every_reward_and_entry_path_answers_self_excluded_first(api_client, excluded):
    api_client.force_authenticate(excluded)
    code = BonusCodeFactory(code="BREAK10", claim_limit=1)
    claim = api_client.post(f"/api/v1/bonus-codes/{code.code}/claim/")
    assert (claim.status_code, claim.json()["error"]["code"]) == (403, "self_excluded")
    unknown = api_client.post("/api/v1/bonus-codes/NOSUCHCODE/claim/")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (403, "self_excluded")  # before the lookup
    spin = api_client.post("/api/v1/wheel/spin/", {}, format="json")
    assert (spin.status_code, spin.json()["error"]["code"]) == (403, "self_excluded")
    now = timezone.now()
    raffle = Raffle.objects.create(title="Break giveaway", starts_at=now - timedelta(hours=1),
                                   ends_at=now + timedelta(hours=1), prize_pool=Decimal("5"))  # fmt: skip
    raffle_open(raffle.pk)
    enter = api_client.post(f"/api/v1/raffles/{raffle.pk}/enter/")
    assert (enter.status_code, enter.json()["error"]["code"]) == (403, "self_excluded")
    race = WagerRaceFactory(status=WagerRace.Status.LIVE, entry=WagerRace.Entry.OPT_IN,
                            start_date=now - timedelta(days=1), end_date=now + timedelta(days=1))  # fmt: skip
    join = api_client.post(f"/api/v1/races/{race.pk}/join/")
    assert (join.status_code, join.json()["error"]["code"]) == (403, "self_excluded")
    # Still there: history and support.
    assert api_client.get("/api/v1/me/payouts/").status_code == 200
    ticket = api_client.post(
        "/api/v1/support/tickets/", {"subject": "Help", "description": "I need help."}, format="json"
    )
    assert ticket.status_code == 201


def test_no_promotional_or_race_message_reaches_a_player_on_a_break(excluded, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify(excluded, "bonus.new", title="New code", body="GOATED25") is None
    assert notify(excluded, "race.lead", title="You lead", body="!") is None
    assert notify(excluded, "vip.tier", title="Gold", body="!") is None
    assert not Notification.objects.filter(user=excluded).exists()
    assert mail.outbox == []
    answer = notify(excluded, "ticket.reply", title="Support answered", body="Hi")  # what they asked for still comes
    assert answer is not None


def test_a_break_hides_the_name_and_only_a_superuser_lifts_it_early(client, verified_player, password):
    player = verified_player.player
    self_exclusion_start(verified_player, "180d", password=password)
    page = client.get(f"/players/{player.uid}/").content.decode()
    assert player.name not in page
    assert "Anonymous" in page
    operator = staff_member("Operators")
    with pytest.raises(Forbidden):
        self_exclusion_lift(verified_player, actor=operator, reason="asked nicely")
    root = StaffFactory(is_superuser=True)
    with pytest.raises(ServiceError):
        self_exclusion_lift(verified_player, actor=root, reason="  ")
    verified_player.refresh_from_db()
    assert self_exclusion_lift(verified_player, actor=root, reason="Entered by mistake, confirmed by phone")
    verified_player.refresh_from_db()
    player.refresh_from_db()
    assert verified_player.self_excluded_until is None
    assert player.hidden_until is None
    assert AuditEntry.objects.get(action="self_exclusion.lift").actor == root


def test_a_shorter_break_is_refused_and_the_settings_page_offers_one(client, verified_player, password):
    self_exclusion_start(verified_player, "permanent", password=password)
    with pytest.raises(Conflict):
        self_exclusion_start(verified_player, "7d", password=password)
    client.force_login(verified_player)
    page = client.get("/accounts/settings/").content.decode()
    assert "You are taking a break for good" in page
    other = UserFactory(player=PlayerFactory())
    client.force_login(other)
    response = client.post("/accounts/settings/", {"section": "self_exclusion", "period": "1d", "password": password})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.self_excluded_until > timezone.now() + timedelta(hours=23)
