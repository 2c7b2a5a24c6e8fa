"""Around a player on a feed of exact ties: the rows around a player are exactly the rows of the paged list
around their rank — same rows, same order, same tie-break (wager desc, first seen, uid in the database's own
order) — for every rank of every period and of a live race's standings.

The feed is hostile on purpose: wagers equal across many players, and with more significant digits than a double
holds (what SQLite stores and gives back rounded to 15 digits); uids that differ only in case, or in characters
that sort differently by code point and by locale (`_`, `-`, digits, capitals); first_seen equal for some, a
microsecond apart for others, and not in uid order."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from races.feed.leaderboard import PERIODS, leaderboard_cache_clear
from races.feed.ranks import player_ranks_recompute
from races.models import Player
from races.selectors.races import race_position
from races.services.standings import races_refresh_after_sync
from tests.races.test_pages import finish, live_race

pytestmark = pytest.mark.django_db

UIDS = ["a", "A", "b", "B", "ab", "aB", "Ab", "AB", "_a", "-a", "a_", "a-", "0a", "9", "Z", "z", "zz", "Zz", "zZ",
        "a0", "A0", "a1", "A_", "b-b", "B-B", "bb", "Bb", "x", "X", "x_1", "X-1", "m", "M", "mM", "Mm", "_", "-",
        "0", "00", "q"]  # fmt: skip
# Few distinct values, so most rows tie; 16-17 significant digits, beyond what a double holds exactly.
WAGERS = [Decimal("98765432.12345678"), Decimal("1234567890.12345679"), Decimal("5.5"), Decimal("0")]


def tied_feed(seed: int = 29) -> list[Player]:
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    arrivals = [now - timedelta(days=2), now - timedelta(days=1), now - timedelta(days=1, microseconds=1), now]
    uids = UIDS[:]
    rng.shuffle(uids)  # arrival (first_seen, insertion) order is not uid order
    players = []
    for uid in uids:
        wagers = {field: rng.choice(WAGERS[:3]) for field in ("wager_week", "wager_month", "wager_all_time")}
        seen = rng.choice(arrivals)
        players.append(Player(uid=uid, name=f"Goat {uid}", wager_today=rng.choice(WAGERS), first_seen=seen, **wagers))
    made = Player.objects.bulk_create(players)
    player_ranks_recompute()
    leaderboard_cache_clear()
    return made


def paged_list(client, period: str, limit: int = 7) -> list[dict]:
    """The whole board through small pages (the same `limit`/`offset` paging a client uses)."""
    rows, offset = [], 0
    while True:
        page = client.get("/api/v1/leaderboard/", {"period": period, "limit": limit, "offset": offset}).json()
        rows += page["results"]
        offset += limit
        if offset >= page["total"]:
            return rows


def test_around_me_is_the_paged_list_around_my_rank_for_every_rank_of_every_period(client):
    tied_feed()
    for period in PERIODS:
        listed = paged_list(client, period)
        assert [r["rank"] for r in listed] == list(range(1, len(listed) + 1))
        assert len({r["uid"] for r in listed}) == len(listed)
        for index, row in enumerate(listed):
            for n in (2, 3):
                body = client.get("/api/v1/leaderboard/around/", {"period": period, "uid": row["uid"], "n": n}).json()
                assert body["rank"] == row["rank"], (period, row["uid"])
                assert body["results"] == listed[max(index - n, 0) : index + n + 1], (period, row["uid"], n)


def test_the_board_breaks_ties_by_first_seen_then_uid_in_the_database_s_order(client):
    made = tied_feed()
    listed = paged_list(client, "monthly")
    by_uid = {p.uid: p for p in made}
    db_order = list(Player.objects.filter(wager_month__gt=0).order_by("-wager_month", "first_seen", "uid")
                    .values_list("uid", flat=True))  # fmt: skip
    assert [r["uid"] for r in listed] == db_order
    first_seen = [by_uid[r["uid"]].first_seen for r in listed if r["wagered"] == listed[0]["wagered"]]
    assert first_seen == sorted(first_seen)


def _standings(client, race) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = client.get(f"/api/v1/races/{race.pk}/", {"limit": 7, "offset": offset}).json()
        rows += page["standings"]
        offset += 7
        if offset >= page["standings_total"]:
            return rows


def test_race_around_me_is_the_standings_around_my_rank_for_every_rank_live_and_completed(client):
    race = live_race(min_wager=Decimal("0"))
    tied_feed()
    races_refresh_after_sync(timezone.now())
    for status in ("live", "completed"):
        if status == "completed":
            finish(race)
        standings = _standings(client, race)
        assert [r["rank"] for r in standings] == list(range(1, len(standings) + 1))
        assert len(standings) == Player.objects.filter(wager_month__gt=0).count()
        for index, row in enumerate(standings):
            for n in (2, 3):
                body = client.get(f"/api/v1/races/{race.pk}/around/", {"uid": row["uid"], "n": n}).json()
                assert (body["status"], body["rank"]) == (status, row["rank"]), row["uid"]
                keys = list(body["standings"][0])
                near = standings[max(index - n, 0) : index + n + 1]
                assert body["standings"] == [{k: r[k] for k in keys} for r in near], (status, row["uid"], n)
                if status == "live":  # the bot's /race and the "you are here" block
                    position = race_position(race, Player.objects.get(uid=row["uid"]).pk, n=n)
                    assert [(r.rank, r.uid) for r in position.around] == [(r["rank"], r["uid"]) for r in near]
