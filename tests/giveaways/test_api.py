"""The raffle API of DESIGN §7, its pages, and the docs' checking script run against a live server."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from giveaways.draw import seed_hash
from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_draw, raffle_open
from tests.factories import PlayerFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
RAFFLE_KEYS = {"id", "title", "status", "starts_at", "ends_at", "prize_pool", "winners_count", "ticket_wager",
               "server_seed_hash", "server_seed", "entries_digest", "winners"}  # fmt: skip


def giveaway(**kwargs) -> Raffle:
    now = timezone.now()
    defaults = {"title": "Weekend giveaway", "starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=1),
                "prize_pool": Decimal("100.00"), "winners_count": 2, "prize_distribution": {"1": 70, "2": 30},
                "ticket_wager": Decimal("0")}  # fmt: skip
    raffle = Raffle.objects.create(**(defaults | kwargs))
    raffle_open(raffle.pk)
    raffle.refresh_from_db()
    return raffle


def drawn_with_entries(count: int) -> Raffle:
    raffle = giveaway(title="Drawn giveaway", winners_count=3, prize_distribution={"1": 50, "2": 30, "3": 20})
    players = [PlayerFactory(uid=f"u{i:04d}", name=f"Entrant{i}") for i in range(count)]
    RaffleEntry.objects.bulk_create(
        RaffleEntry(raffle=raffle, player=p, baseline_all_time=0, measured=0, tickets=1 + i % 3)
        for i, p in enumerate(players)
    )
    raffle_draw(raffle.pk, now=raffle.ends_at + timedelta(seconds=1))
    raffle.refresh_from_db()
    return raffle


@pytest.mark.django_db
def test_a_raffle_hides_its_seed_and_digest_until_drawn(api_client):
    raffle = giveaway()
    listed = api_client.get("/api/v1/raffles/").json()
    assert listed["count"] == 1
    item = listed["results"][0]
    assert set(item) >= RAFFLE_KEYS
    assert item["status"] == "open"
    assert item["server_seed"] is None
    assert item["entries_digest"] is None
    assert item["server_seed_hash"] == seed_hash(raffle.server_seed)
    assert item["prize_pool"] == "100.00"
    assert item["winners"] == []
    assert api_client.get("/api/v1/raffles/?status=nope").status_code == 400
    assert api_client.get("/api/v1/raffles/999999/").status_code == 404
    assert api_client.get("/api/v1/raffles/999999/").json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_drawn_raffle_shows_its_seed_digest_winners_and_the_hashed_entries_in_draw_order(api_client):
    raffle = drawn_with_entries(130)
    body = api_client.get(f"/api/v1/raffles/{raffle.pk}/").json()
    assert body["status"] == "drawn"
    assert body["server_seed"] == raffle.server_seed
    assert body["entries_digest"] == raffle.entries_digest
    assert [w["position"] for w in body["winners"]] == [1, 2, 3]
    assert set(body["winners"][0]) == {"position", "uid", "name", "tickets", "prize"}
    assert body["winners"][0]["prize"] == "50.00"
    first = api_client.get(f"/api/v1/raffles/{raffle.pk}/entries/?limit=100").json()
    second = api_client.get(f"/api/v1/raffles/{raffle.pk}/entries/?limit=100&offset=100").json()
    assert first["count"] == 130
    uids = [e["uid"] for e in first["results"] + second["results"]]
    assert uids == sorted(uids)
    assert len(uids) == 130
    assert set(first["results"][0]) == {"uid", "name", "tickets"}
    assert api_client.get(f"/api/v1/raffles/{raffle.pk}/entries/?limit=0").status_code == 400


@pytest.mark.django_db
def test_entering_a_giveaway_once(api_client, verified_player):
    raffle = giveaway()
    url = f"/api/v1/raffles/{raffle.pk}/enter/"
    assert api_client.post(url).status_code in (401, 403)  # signed out
    api_client.force_authenticate(verified_player)
    answer = api_client.post(url)
    assert answer.status_code == 201
    assert answer.json() == {"raffle": raffle.pk, "tickets": 1}
    again = api_client.post(url)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_entered"
    entries = api_client.get(f"/api/v1/raffles/{raffle.pk}/entries/").json()
    assert entries["results"] == [{"uid": verified_player.player.uid, "name": "VerifiedGoat", "tickets": 1}]
    assert api_client.post("/api/v1/raffles/999999/enter/").status_code == 404


@pytest.mark.django_db
def test_what_cannot_be_entered_says_why(api_client, verified_player):
    now = timezone.now()
    wager = giveaway(title="Wager raffle", ticket_wager=Decimal("100"))
    closed = giveaway(title="Closed", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    upcoming = Raffle.objects.create(title="Soon", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
                                     prize_pool=Decimal("10"), ticket_wager=Decimal("0"))  # fmt: skip
    api_client.force_authenticate(verified_player)
    codes = {
        raffle.title: (api_client.post(f"/api/v1/raffles/{raffle.pk}/enter/").status_code,
                       api_client.post(f"/api/v1/raffles/{raffle.pk}/enter/").json()["error"]["code"])
        for raffle in (wager, closed, upcoming)
    }  # fmt: skip
    assert codes == {"Wager raffle": (409, "not_a_giveaway"), "Closed": (409, "raffle_closed"),
                     "Soon": (409, "raffle_closed")}  # fmt: skip


@pytest.mark.django_db
def test_the_reward_rule_and_the_tier_refuse_with_their_codes(api_client):
    from vip.models import VipTier

    raffle = giveaway()
    unconfirmed = UserFactory(email_verified=False)
    unverified = UserFactory(email_verified=True)
    api_client.force_authenticate(unconfirmed)
    assert api_client.post(f"/api/v1/raffles/{raffle.pk}/enter/").json()["error"]["code"] == "email_unconfirmed"
    api_client.force_authenticate(unverified)
    refused = api_client.post(f"/api/v1/raffles/{raffle.pk}/enter/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_verified")
    diamond = VipTier.objects.create(name="Diamondish", slug="diamondish", min_wager=Decimal("10000000"))
    tiered = giveaway(title="High rollers", min_tier=diamond)
    small = UserFactory(email_verified=True, verification_status="verified", player=PlayerFactory())
    api_client.force_authenticate(small)
    refused = api_client.post(f"/api/v1/raffles/{tiered.pk}/enter/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "wager_too_low")
    assert not RaffleEntry.objects.exists()


@pytest.mark.django_db
def test_the_pages_list_show_and_verify_a_raffle(client, verified_player):
    open_one = giveaway(title="Open giveaway")
    drawn = drawn_with_entries(5)
    index = client.get("/raffles/").content.decode()
    assert "Open giveaway" in index
    assert "Drawn giveaway" in index
    page = client.get(f"/raffles/{open_one.pk}/").content.decode()
    assert "Sign in to enter" in page
    assert open_one.server_seed_hash in page
    assert open_one.server_seed not in page
    client.force_login(verified_player)
    assert 'id="enter-raffle"' in client.get(f"/raffles/{open_one.pk}/").content.decode()
    assert client.post(f"/raffles/{open_one.pk}/enter/").status_code == 302
    assert "Your tickets" in client.get(f"/raffles/{open_one.pk}/").content.decode()
    verify = client.get(f"/raffles/{drawn.pk}/verify/").content.decode()
    assert 'id="raffle-verify-data"' in verify
    assert drawn.server_seed in verify
    assert re.search(r"u0000:\d\n", verify)
    assert client.get("/raffles/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_docs_checking_script_confirms_a_draw_from_the_live_api(live_server):
    raffle = drawn_with_entries(130)  # more than one page of entries
    block = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "raffles.md").read_text(), re.S).group(1)
    done = subprocess.run(
        [sys.executable, "-c", block, f"{live_server.url}/api/v1/raffles/{raffle.pk}/"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("match")
