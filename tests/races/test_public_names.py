"""The public name of a feed player (races.feed.names): the rule, its SQL twin, the choice, and a crawl of every
public surface with a masked and a hidden player's real names as needles."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_draw, raffle_open
from overlays.models import OverlayLink
from races.feed.leaderboard import leaderboard_cache_refresh
from races.feed.names import ANONYMOUS, masked, public_name, public_name_expr
from races.feed.ranks import player_ranks_recompute
from races.models import Player, WagerRace
from races.services.lifecycle import race_finalize
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory
from tests.realtime.test_consumers import connect

NAMES = ["LuckyGoat88", "Abcde", "Abcd", "A", "Zé", "🐐🐐🐐🐐🐐🐐", "x_y-z.w", "ÆØÅæøå", "  spaced  ", "12345"]


@pytest.mark.parametrize(
    ("name", "expected"), [("LuckyGoat88", "Lu****88"), ("Abcde", "Ab****de"), ("Abcd", "A****"), ("A", "A****")]
)
def test_a_masked_name_keeps_two_characters_at_each_end_or_the_first_when_short(name, expected):
    assert masked(name) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("default", ["full", "masked"])
def test_the_rule_and_its_sql_twin_agree_on_every_kind_of_name(settings, default):
    settings.PUBLIC_NAME_DISPLAY = default
    now = timezone.now()
    made = []
    for i, name in enumerate(NAMES):
        for j, choice in enumerate(["", "full", "masked", "hidden"]):
            for k, hidden_until in enumerate([None, now - timedelta(days=1), now + timedelta(days=1)]):
                made.append(Player(uid=f"n{i}-{j}-{k}", name=name, name_display=choice, hidden_until=hidden_until))
    Player.objects.bulk_create(made)
    in_sql = dict(Player.objects.annotate(public=public_name_expr()).values_list("uid", "public"))
    for p in made:
        expected = public_name(p.name, p.name_display, p.hidden_until, now=now)
        assert in_sql[p.uid] == expected, (p.name, p.name_display, p.hidden_until)
    assert {public_name("LuckyGoat88", "hidden"), public_name("x", "", now + timedelta(hours=1))} == {ANONYMOUS}


@pytest.mark.django_db
def test_a_player_chooses_through_the_api_and_the_leaderboard_follows_at_once(api_client):
    player = PlayerFactory(name="ChoosyGoat77", wager_month=Decimal("900"))
    player_ranks_recompute()
    leaderboard_cache_refresh()
    user = UserFactory(player=player, verification_status="verified")
    assert api_client.patch("/api/v1/me/", {"name_display": "masked"}, format="json").status_code in (401, 403)
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/me/").json()["name_display"] == "full"
    bad = api_client.patch("/api/v1/me/", {"name_display": "secret"}, format="json")
    assert bad.status_code == 400
    assert "name_display" in bad.json()["error"]["fields"]
    unknown = api_client.patch("/api/v1/me/", {"name_display": "masked", "username": "x"}, format="json")
    assert unknown.status_code == 400
    answer = api_client.patch("/api/v1/me/", {"name_display": "masked"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["name_display"] == "masked"
    leaderboard_cache_refresh()  # what the after-commit hook does (the test's transaction never commits)
    rows = api_client.get("/api/v1/leaderboard/?period=monthly").json()["results"]
    assert [r["name"] for r in rows if r["uid"] == player.uid] == ["Ch****77"]
    unlinked = UserFactory()
    api_client.force_authenticate(unlinked)
    conflict = api_client.patch("/api/v1/me/", {"name_display": "hidden"}, format="json")
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "not_linked")


def _world():
    """A masked and a hidden player among others, in a live race, a completed race and a drawn raffle."""
    now = timezone.now()
    masked_player = PlayerFactory(uid="maskeduid", name="SecretMaskedName", name_display="masked",
                                  wager_month=Decimal("5000"), wager_week=Decimal("500"), wager_today=Decimal("50"),
                                  wager_all_time=Decimal("90000"))  # fmt: skip
    hidden_player = PlayerFactory(uid="hiddenuid", name="SecretHiddenName", name_display="hidden",
                                  wager_month=Decimal("4000"), wager_week=Decimal("400"), wager_today=Decimal("40"),
                                  wager_all_time=Decimal("80000"))  # fmt: skip
    PlayerFactory.create_batch(3)
    player_ranks_recompute()
    live = WagerRaceFactory(status=WagerRace.Status.LIVE, start_date=now - timedelta(days=2),
                            end_date=now + timedelta(days=5))  # fmt: skip
    done = WagerRaceFactory(status=WagerRace.Status.LIVE, start_date=now - timedelta(days=10),
                            end_date=now - timedelta(days=1), title="Finished race")  # fmt: skip
    races_refresh_after_sync(now - timedelta(days=1, seconds=1))
    race_finalize(done.pk, now=now)
    races_refresh_after_sync(now)
    raffle = Raffle.objects.create(title="Crawl raffle", starts_at=now - timedelta(days=3),
                                   ends_at=now - timedelta(hours=1), prize_pool=Decimal("10"),
                                   winners_count=2)  # fmt: skip
    raffle_open(raffle.pk, now=raffle.starts_at)
    for p in (masked_player, hidden_player):
        RaffleEntry.objects.create(raffle=raffle, player=p, baseline_all_time=0, measured=0, tickets=1)
    raffle_draw(raffle.pk, now=now)
    leaderboard_cache_refresh()
    return live, done, raffle


@pytest.mark.django_db(transaction=True)
def test_no_public_surface_shows_a_masked_or_hidden_player_s_real_name():
    live, done, raffle = _world()
    client = Client()
    urls = [
        "/", "/leaderboard/", "/leaderboard/?period=weekly", "/leaderboard/?q=Secret", "/races/",
        f"/races/{live.pk}/", f"/races/{done.pk}/", "/players/maskeduid/", "/players/hiddenuid/", "/raffles/",
        f"/raffles/{raffle.pk}/", f"/raffles/{raffle.pk}/verify/",
        "/api/v1/leaderboard/?period=monthly", "/api/v1/leaderboard/?period=all_time&limit=100",
        "/api/v1/leaderboard/around/?period=monthly&uid=maskeduid", "/api/v1/races/", f"/api/v1/races/{live.pk}/",
        f"/api/v1/races/{done.pk}/", f"/api/v1/races/{done.pk}/results/", f"/api/v1/races/{live.pk}/progress/",
        f"/api/v1/races/{live.pk}/around/?uid=hiddenuid", "/api/v1/races/current/", f"/api/v1/raffles/{raffle.pk}/",
        f"/api/v1/raffles/{raffle.pk}/entries/", "/api/v1/raffles/",
    ]  # fmt: skip
    for kind, extra in (("race", {}), ("leaderboard", {}), ("ticker", {}), ("raffle", {"raffle": raffle})):
        link = OverlayLink.objects.create(kind=kind, **extra)
        urls += [f"/overlay/{link.token}/{kind}/", f"/overlay/{link.token}/{kind}/data.json"]
    seen = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = response.content.decode()
        seen[url] = body
        assert "SecretMaskedName" not in body, url
        assert "SecretHiddenName" not in body, url
    assert "Se****me" in seen["/api/v1/leaderboard/?period=monthly"]
    assert ANONYMOUS in seen["/api/v1/leaderboard/?period=monthly"]
    assert "Se****me" in seen[f"/api/v1/raffles/{raffle.pk}/entries/"]
    search = seen["/leaderboard/?q=Secret"]  # the search finds nobody by a real name that is not shown
    assert "/players/maskeduid/" not in search
    assert "/players/hiddenuid/" not in search


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_no_socket_snapshot_shows_a_masked_or_hidden_player_s_real_name():
    live, done, raffle = await sync_to_async(_world)()
    for path in ("/ws/leaderboard/?period=monthly", f"/ws/races/{live.pk}/", f"/ws/races/{done.pk}/",
                 f"/ws/raffles/{raffle.pk}/"):  # fmt: skip
        ws, snapshot = await connect(path)
        text = json.dumps(snapshot)
        assert "SecretMaskedName" not in text, path
        assert "SecretHiddenName" not in text, path
        await ws.disconnect()


@pytest.mark.django_db
def test_the_settings_page_offers_the_three_choices_with_the_player_s_own_examples(client):
    player = PlayerFactory(name="ChoosyGoat77")
    user = UserFactory(player=player, verification_status="verified")
    client.force_login(user)
    page = client.get("/accounts/settings/").content.decode()
    assert "Ch****77" in page
    assert 'value="full" checked' in page
    response = client.post("/accounts/settings/", {"section": "privacy", "name_display": "hidden"})
    assert response.status_code == 302
    player.refresh_from_db()
    assert player.name_display == "hidden"
    assert client.post("/accounts/settings/", {"section": "privacy", "name_display": "nope"}).status_code == 400
    player.refresh_from_db()
    assert player.name_display == "hidden"
    assert "How your Goated name appears" not in Client().get("/accounts/settings/").content.decode()
