"""Back-office actions on users and races: ban, reinstate, unlink, CSV export, each audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.models import AuditEntry
from races.models import WagerRace
from races.services.lifecycle import race_finalize
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory

pytestmark = pytest.mark.django_db

USERS = reverse("admin:accounts_user_changelist")
RACES = reverse("admin:races_wagerrace_changelist")


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _act(client, url, action, *objs, follow=True):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objs]}, follow=follow)


def test_banning_deactivates_revokes_tokens_and_is_audited(admin_client, player_user, staff_user):
    Token.objects.create(user=player_user)
    response = _act(admin_client, USERS, "ban", player_user, staff_user)
    assert "Banned: 1 account(s)." in response.content.decode()  # never yourself
    player_user.refresh_from_db()
    staff_user.refresh_from_db()
    assert not player_user.is_active
    assert staff_user.is_active
    assert not Token.objects.filter(user=player_user).exists()
    entry = AuditEntry.objects.get(action="user.ban")
    assert entry.actor == staff_user
    assert (entry.before, entry.after) == ({"is_active": True}, {"is_active": False})
    _act(admin_client, USERS, "unban", player_user)
    player_user.refresh_from_db()
    assert player_user.is_active
    assert AuditEntry.objects.filter(action="user.unban").count() == 1


def test_unlinking_a_player_resets_verification_and_is_audited(admin_client, player_user):
    player = PlayerFactory()
    User.objects.filter(pk=player_user.pk).update(player=player, verification_status="verified")
    _act(admin_client, USERS, "unlink_player", player_user)
    player_user.refresh_from_db()
    assert player_user.player is None
    assert player_user.verification_status == "unverified"
    entry = AuditEntry.objects.get(action="user.player_unlink")
    assert entry.before["player"] == player.pk


def test_users_are_found_by_goated_uid_and_telegram_username(admin_client):
    player = PlayerFactory(uid="GoatUid12345678901234")
    UserFactory(username="linked", player=player, telegram_username="tg_goat")
    UserFactory(username="other")
    for term in ("GoatUid12345678901234", "tg_goat"):
        page = admin_client.get(USERS, {"q": term}).content.decode()
        assert "linked" in page
        assert ">other<" not in page


def _finished_race():
    now = timezone.now()
    race = WagerRaceFactory(
        status=WagerRace.Status.LIVE, start_date=now - timedelta(days=2), end_date=now + timedelta(days=1),
        prize_pool=Decimal("100"), prize_distribution={"1": 70, "2": 30},
    )  # fmt: skip
    PlayerFactory(name="=HYPERLINK(evil)", wager_month=Decimal("900"))
    PlayerFactory(name="Second", wager_month=Decimal("500"))
    races_refresh_after_sync(now)
    return race


def test_csv_export_of_live_standings_and_final_results(admin_client, staff_user):
    live = _finished_race()
    response = _act(admin_client, RACES, "export_csv", live, follow=False)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["race_id", "race_title", "race_status", "rank"]
    assert [r[3] for r in rows[1:]] == ["1", "2"]
    assert rows[1][5] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert rows[1][7] == "70.00"
    WagerRace.objects.filter(pk=live.pk).update(end_date=timezone.now() - timedelta(seconds=1))
    race_finalize(live.pk)
    final = _act(admin_client, RACES, "export_csv", live, follow=False)
    rows = list(csv.reader(io.StringIO(b"".join(final.streaming_content).decode())))
    assert rows[1][2] == "completed"
    assert AuditEntry.objects.filter(action="race.export_csv", actor=staff_user).count() == 2
