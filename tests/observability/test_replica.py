"""With a read replica configured, public reads come from it and everything that decides or writes uses the
primary. The "replica" here is a second real database (SQLite on the SQLite run, a second PostgreSQL database
on the PostgreSQL run) holding different rows, so what a page shows tells which database it read."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from races.models import Player
from tests.factories import UserFactory
from vip.models import BonusCode, BonusCodeClaim

pytestmark = pytest.mark.django_db(databases=["default", "replica"], transaction=True)


def _both(model, **fields):
    """A row "replicated": the same row on the primary and the replica."""
    for alias in ("default", "replica"):
        model.objects.using(alias).create(**fields)


def test_a_leaderboard_request_reads_the_replica(client, settings):
    settings.READ_REPLICA = True
    Player.objects.using("default").create(uid="p1", name="OnPrimary", wager_month=Decimal(100))
    Player.objects.using("replica").create(uid="r1", name="OnReplica", wager_month=Decimal(100))
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        body = client.get("/api/v1/leaderboard/", {"period": "monthly"}).json()
    assert [row["name"] for row in body["results"]] == ["OnReplica"]
    assert any("races_player" in q["sql"] for q in on_replica.captured_queries)
    assert "OnReplica" in client.get("/leaderboard/?period=monthly").content.decode()


def test_a_claim_reads_and_writes_the_primary(client, settings):
    settings.READ_REPLICA = True
    _both(Player, id=41, uid="mine", name="Mine", wager_all_time=Decimal("50000"))
    user = UserFactory(email_verified=True, verification_status="verified", player_id=41)
    _both(BonusCode, id=7, code="REPLICA5", amount=Decimal("5"), claim_limit=None)
    client.force_login(user)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = client.post("/api/v1/bonus-codes/REPLICA5/claim/")
    assert response.status_code == 201, response.content
    assert BonusCodeClaim.objects.using("default").filter(user=user).exists()
    assert not BonusCodeClaim.objects.using("replica").exists()
    assert not on_replica.captured_queries  # a write request never reads the replica


def test_without_replica_routing_everything_stays_on_the_primary(client, settings):
    settings.READ_REPLICA = False
    Player.objects.using("default").create(uid="p1", name="OnPrimary", wager_month=Decimal(100))
    Player.objects.using("replica").create(uid="r1", name="OnReplica", wager_month=Decimal(100))
    body = client.get("/api/v1/leaderboard/", {"period": "monthly"}).json()
    assert [row["name"] for row in body["results"]] == ["OnPrimary"]


def test_the_back_office_and_tasks_read_the_primary(client, settings):
    from races.tasks import sync_wagers_task
    from tests.factories import StaffFactory

    settings.READ_REPLICA = True
    settings.AFFILIATE_API_URL = ""
    Player.objects.using("replica").create(uid="r1", name="OnReplica")
    client.force_login(StaffFactory())
    page = client.get("/admin/races/player/").content.decode()
    assert "OnReplica" not in page
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        sync_wagers_task.delay()
    assert not on_replica.captured_queries
    assert Player.objects.using("default").count() == 300
