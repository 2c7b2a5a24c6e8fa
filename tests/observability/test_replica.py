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
    """Reads past the shared cache come from the replica (the cache itself is built from the primary: below)."""
    settings.READ_REPLICA = True
    settings.LEADERBOARD_CACHE_ROWS = 1
    for alias, name in (("default", "OnPrimary"), ("replica", "OnReplica")):
        for i in (1, 2):
            Player.objects.using(alias).create(uid=f"p{i}", name=f"{name}{i}", wager_month=Decimal(300 - 100 * i))
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        body = client.get("/api/v1/leaderboard/", {"period": "monthly", "limit": 1, "offset": 1}).json()
    assert [row["name"] for row in body["results"]] == ["OnReplica2"]
    assert any("races_player" in q["sql"] for q in on_replica.captured_queries)
    assert "OnReplica2" in client.get("/leaderboard/?period=monthly").content.decode()


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


def _lagging_replica() -> str:
    """The primary holds the latest sync (wager 200, logged at `as_of`); the replica still holds the sync before
    it (wager 100). Returns the primary's `updated_at`."""
    from races.models import TransformationLog

    as_of = "2025-03-01T12:00:00+00:00"
    TransformationLog.objects.using("default").create(message="sync", payload={"kind": "sync", "ok": True,
                                                                               "as_of": as_of})  # fmt: skip
    Player.objects.using("default").create(id=7, uid="lag", name="Lagging", wager_month=Decimal(200))
    Player.objects.using("replica").create(id=7, uid="lag", name="Lagging", wager_month=Decimal(100))
    return "2025-03-01T12:00:00Z"


def test_a_lagging_replica_is_never_cached_under_the_primary_s_sync_time(client, settings):
    from races.feed.leaderboard import leaderboard_cache_clear

    settings.READ_REPLICA = True
    updated_at = _lagging_replica()
    leaderboard_cache_clear()
    body = client.get("/api/v1/leaderboard/", {"period": "monthly"}).json()  # a cold cache, rebuilt by a request
    assert (body["updated_at"], [r["wagered"] for r in body["results"]]) == (updated_at, ["200.00"])
    leaderboard_cache_clear()
    page = client.get("/leaderboard/", {"period": "monthly"}).content.decode()
    assert "200.00" in page
    assert "100.00" not in page


def test_the_refresh_after_a_sync_rebuilds_the_cache_from_the_primary(client, settings):
    from races.feed.leaderboard import leaderboard_cache_clear, leaderboard_cache_refresh

    settings.READ_REPLICA = True
    updated_at = _lagging_replica()
    leaderboard_cache_clear()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        leaderboard_cache_refresh()  # as the sync command does, outside a task and after its commit
    assert not [q for q in on_replica.captured_queries if "races_player" in q["sql"]]
    body = client.get("/api/v1/leaderboard/", {"period": "monthly"}).json()
    assert (body["updated_at"], [r["wagered"] for r in body["results"]]) == (updated_at, ["200.00"])
