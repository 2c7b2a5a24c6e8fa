"""Around a player: /api/v1/leaderboard/around/, /api/v1/races/<id>/around/, /api/v1/me/rank/.

The answers are checked against the lists themselves (the same ranks and rows), at the edges (rank 1, the last
rank, ties, nothing wagered, unknown uid) and for a constant number of queries however deep the player is.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from races.feed.leaderboard import leaderboard_cache_clear
from races.feed.ranks import player_ranks_recompute
from races.models import Player
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, UserFactory
from tests.races.test_pages import finish, live_race

pytestmark = pytest.mark.django_db

AROUND = "/api/v1/leaderboard/around/"


def make_players(n: int, *, start: int = 0, ties: bool = False) -> list[Player]:
    """n players with distinct wagers (or, with ties, wagers in groups of three sharing first_seen pairs)."""
    now = timezone.now()
    rows = []
    for i in range(start, start + n):
        month = Decimal(1_000 + (i // 3 if ties else i) * 10)
        seen = now - timedelta(minutes=(i // 2 if ties else i))
        rows.append(
            Player(
                uid=f"p{i:06d}",
                name=f"Goat{i}",
                wager_today=Decimal(0),
                wager_week=month,
                wager_month=month,
                wager_all_time=month * 10,
                first_seen=seen,
            )
        )
    made = Player.objects.bulk_create(rows)
    player_ranks_recompute()
    leaderboard_cache_clear()
    return made


def full_list(client, period="monthly") -> list[dict]:
    rows, offset = [], 0
    while True:
        page = client.get("/api/v1/leaderboard/", {"period": period, "limit": 100, "offset": offset}).json()
        rows += page["results"]
        offset += 100
        if offset >= page["total"]:
            return rows


def test_around_matches_the_list_for_every_player_with_ties(client):
    make_players(40, ties=True)
    listed = full_list(client)
    assert len(listed) == 40
    for index, row in enumerate(listed):
        body = client.get(AROUND, {"period": "monthly", "uid": row["uid"], "n": 3}).json()
        assert body["rank"] == row["rank"] == index + 1
        assert body["results"] == listed[max(index - 3, 0) : index + 4], row["uid"]
        assert body["total"] == 40
        assert body["period"] == "monthly"
        assert body["uid"] == row["uid"]


def test_rank_one_and_the_last_rank_get_fewer_rows_at_the_ends(client):
    made = make_players(12)
    top, last = made[-1], made[0]  # the highest wager is the last made
    first = client.get(AROUND, {"uid": top.uid, "n": 5}).json()
    assert [r["rank"] for r in first["results"]] == [1, 2, 3, 4, 5, 6]
    bottom = client.get(AROUND, {"uid": last.uid, "n": 5}).json()
    assert [r["rank"] for r in bottom["results"]] == [7, 8, 9, 10, 11, 12]
    alone = client.get(AROUND, {"uid": last.uid, "n": 0}).json()
    assert [r["uid"] for r in alone["results"]] == [last.uid]
    assert alone["rank"] == 12


def test_a_player_with_nothing_wagered_in_the_period_has_no_rank(client):
    made = make_players(3)
    body = client.get(AROUND, {"period": "today", "uid": made[0].uid}).json()
    assert body == {**body, "rank": None, "results": [], "total": 0}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"uid": "nobody-here"}, 404, None),
        ({}, 400, "uid"),
        ({"uid": "   "}, 400, "uid"),
        ({"uid": "x" * 65}, 400, "uid"),
        ({"uid": "p000001", "n": "-1"}, 400, "n"),
        ({"uid": "p000001", "n": "51"}, 400, "n"),
        ({"uid": "p000001", "n": "five"}, 400, "n"),
        ({"uid": "p000001", "period": "yearly"}, 400, "period"),
    ],
)
def test_bad_queries_get_clear_json_errors(client, params, status, field):
    make_players(3)
    response = client.get(AROUND, params)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == ("not_found" if status == 404 else "invalid")
    if field:
        assert list(error["fields"]) == [field]


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_same_queries_at_ten_and_a_thousand_players_deep_in_the_list(client):
    made = make_players(10)
    client.get("/api/v1/leaderboard/")  # the cached head (total, updated_at) is warm in both measurements
    small = _count(client, AROUND, {"uid": made[4].uid, "n": 5})
    make_players(1_000, start=10)
    client.get("/api/v1/leaderboard/")
    deep = Player.objects.get(ranks__rank_monthly=900)
    assert _count(client, AROUND, {"uid": deep.uid, "n": 5}) == small
    body = client.get(AROUND, {"uid": deep.uid, "n": 5}).json()
    assert [r["rank"] for r in body["results"]] == list(range(895, 906))


# --- races ---------------------------------------------------------------------------------------------------


def race_with(n: int):
    race = live_race(min_wager=Decimal("0"))
    for i in range(n):
        PlayerFactory(uid=f"r{i:05d}", wager_month=Decimal(100 * (i + 1)), wager_all_time=Decimal(1_000 * (i + 1)))
    player_ranks_recompute()
    races_refresh_after_sync(timezone.now())
    return race


def race_rows(client, race) -> list[dict]:
    return client.get(f"/api/v1/races/{race.pk}/", {"limit": 100}).json()["standings"]


def test_race_around_matches_the_standings_live_and_once_completed(client):
    race = race_with(9)
    standings = race_rows(client, race)
    assert len(standings) == 9
    for index, row in enumerate(standings):
        body = client.get(f"/api/v1/races/{race.pk}/around/", {"uid": row["uid"], "n": 2}).json()
        assert body["rank"] == index + 1
        assert body["standings_total"] == 9
        assert body["status"] == "live"
        assert body["standings"] == [
            {k: r[k] for k in body["standings"][0]} for r in standings[max(index - 2, 0) : index + 3]
        ]
    finish(race)
    final = race_rows(client, race)
    body = client.get(f"/api/v1/races/{race.pk}/around/", {"uid": final[-1]["uid"], "n": 2}).json()
    assert body["status"] == "completed"
    assert body["rank"] == 9
    assert [r["uid"] for r in body["standings"]] == [r["uid"] for r in final[-3:]]


def test_race_around_edges_and_errors(client):
    race = race_with(3)
    outsider = PlayerFactory(uid="outsider", wager_month=Decimal(0), wager_all_time=Decimal(5))
    body = client.get(f"/api/v1/races/{race.pk}/around/", {"uid": outsider.uid}).json()
    assert body["rank"] is None
    assert body["standings"] == []
    assert body["standings_total"] == 3
    assert client.get(f"/api/v1/races/{race.pk}/around/", {"uid": "ghost"}).status_code == 404
    assert client.get("/api/v1/races/999999/around/", {"uid": "r00000"}).status_code == 404
    bad = client.get(f"/api/v1/races/{race.pk}/around/", {"uid": "r00000", "n": "99"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["n"]


def test_race_around_runs_the_same_queries_at_ten_and_a_thousand_rows(client):
    race = race_with(10)
    small = _count(client, f"/api/v1/races/{race.pk}/around/", {"uid": "r00004"})
    for i in range(10, 1_000):
        PlayerFactory(uid=f"r{i:05d}", wager_month=Decimal(100 * (i + 1)), wager_all_time=Decimal(1_000 * (i + 1)))
    player_ranks_recompute()
    races_refresh_after_sync(timezone.now())
    assert _count(client, f"/api/v1/races/{race.pk}/around/", {"uid": "r00004"}) == small


# --- me ------------------------------------------------------------------------------------------------------


def test_my_rank_for_a_linked_player_an_unlinked_one_and_nobody(client):
    race = race_with(5)
    user = UserFactory(player=Player.objects.get(uid="r00003"), verification_status="verified")
    client.force_login(user)
    body = client.get("/api/v1/me/rank/").json()
    assert body["linked"] is True
    assert body["uid"] == "r00003"
    assert body["periods"]["monthly"] == {"rank": 2, "wagered": "400.00", "total": 5}
    assert body["periods"]["today"]["rank"] == 4  # the factory gives everyone 10 today: ties go by first seen
    assert [(r["race_id"], r["rank"], r["standings_total"]) for r in body["races"]] == [(race.pk, 2, 5)]
    client.force_login(UserFactory())
    assert client.get("/api/v1/me/rank/").json() == {
        "linked": False, "uid": None, "name": None, "tier": None, "periods": {}, "races": []
    }  # fmt: skip
    client.logout()
    assert client.get("/api/v1/me/rank/").status_code == 401


# --- "you are here" on the pages -------------------------------------------------------------------------------


def test_pages_show_a_linked_player_where_they_are_and_nobody_else(client):
    race = race_with(8)
    me = Player.objects.get(uid="r00003")  # 5th of 8 by wager
    client.force_login(UserFactory(player=me, verification_status="verified"))
    board = client.get("/leaderboard/?period=monthly").content.decode()
    assert "You are here" in board
    assert "Rank <strong>#5</strong> of 8" in board
    here = board.split('id="here-title"')[1].split("</section>")[0]
    assert here.count("<tr") == 1 + 5  # the header and ranks 3 to 7
    assert 'class="me" aria-current="true"><td>5</td>' in here
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert 'class="me" aria-current="true"><td>5</td>' in page
    client.force_login(UserFactory())
    assert "You are here" not in client.get("/leaderboard/").content.decode()
    client.logout()
    assert "You are here" not in client.get(f"/races/{race.pk}/").content.decode()


def test_pages_with_you_are_here_run_the_same_queries_at_ten_and_a_thousand_players(client):
    race = race_with(10)
    client.force_login(UserFactory(player=Player.objects.get(uid="r00004"), verification_status="verified"))
    counts = lambda: (_count(client, "/leaderboard/", {"period": "monthly"}), _count(client, f"/races/{race.pk}/", {}))  # noqa: E731
    counts()  # warm: the leaderboard cache and the feature switches, as on a running site
    few = counts()
    for i in range(10, 1_000):
        PlayerFactory(uid=f"r{i:05d}", wager_month=Decimal(100 * (i + 1)), wager_all_time=Decimal(1_000 * (i + 1)))
    player_ranks_recompute()
    races_refresh_after_sync(timezone.now())
    leaderboard_cache_clear()
    client.get("/leaderboard/")  # the cache is rebuilt once (as a sync does), then both are measured warm
    assert counts() == few


def test_deep_leaderboard_pages_match_the_shallow_way_of_reading_them(client):
    make_players(1_100, ties=True)
    deep = client.get("/api/v1/leaderboard/", {"period": "monthly", "limit": 100, "offset": 1_000}).json()
    listed = Player.objects.filter(wager_month__gt=0).order_by("-wager_month", "first_seen", "uid")[1_000:1_100]
    assert [r["uid"] for r in deep["results"]] == [p.uid for p in listed]
    assert [r["rank"] for r in deep["results"]] == list(range(1_001, 1_101))
