"""GET /api/v1/leaderboard/ (docs/design.md §6), served from the cache the sync refreshes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.core.cache import cache

from races.feed.client import feed_rows_clean
from races.feed.credentials import feed_token_expiry
from races.feed.demo import demo_feed_payload
from races.feed.leaderboard import CACHE_KEY, leaderboard_cache_clear
from races.models import Player
from races.services.sync import sync_wagers
from vip.models import VipTier

pytestmark = pytest.mark.django_db

URL = "/api/v1/leaderboard/"


@pytest.fixture
def synced(settings, django_capture_on_commit_callbacks):
    """One committed sync of the built-in demo feed (300 players), after-commit work included."""
    settings.AFFILIATE_API_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        result = sync_wagers()
    assert result.ok, result.error
    return result


def test_leaderboard_has_the_documented_shape(api_client, synced):
    body = api_client.get(URL, {"period": "monthly", "limit": 5}).json()
    assert set(body) == {"period", "updated_at", "total", "results"}
    assert body["period"] == "monthly"
    assert body["total"] == Player.objects.filter(wager_month__gt=0).count()
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4, 5]
    first = body["results"][0]
    assert set(first) == {"rank", "uid", "name", "wagered", "tier"}
    top = Player.objects.order_by("-wager_month").first()
    assert first["uid"] == top.uid
    assert Decimal(first["wagered"]) == top.wager_month.quantize(Decimal("0.01"), ROUND_DOWN)
    assert isinstance(first["wagered"], str)
    assert datetime.fromisoformat(body["updated_at"]) <= datetime.now(UTC)


def test_tier_comes_from_all_time_wager(api_client, synced):
    for row in api_client.get(URL, {"period": "all_time", "limit": 100}).json()["results"]:
        player = Player.objects.get(uid=row["uid"])
        expected = VipTier.objects.filter(min_wager__lte=player.wager_all_time).order_by("-min_wager").first()
        assert row["tier"] == expected.name


def test_pages_follow_the_global_ranks(api_client, synced):
    whole = api_client.get(URL, {"period": "weekly", "limit": 100}).json()["results"]
    page = api_client.get(URL, {"period": "weekly", "limit": 10, "offset": 20}).json()["results"]
    assert page == whole[20:30]


def test_pages_beyond_the_cached_rows_read_the_database_with_the_same_ranks(api_client, synced, settings):
    whole = api_client.get(URL, {"period": "today", "limit": 100}).json()
    settings.LEADERBOARD_CACHE_ROWS = 10
    leaderboard_cache_clear()  # rebuilt with only 10 rows per period
    deep = api_client.get(URL, {"period": "today", "limit": 20, "offset": 5}).json()
    assert deep["total"] == whole["total"]
    assert [r["uid"] for r in deep["results"]] == [r["uid"] for r in whole["results"][5:25]]
    assert [r["rank"] for r in deep["results"]] == list(range(6, 26))


def test_a_warm_cache_serves_without_any_database_query(api_client, synced, django_assert_num_queries):
    # No request has warmed anything: the sync itself refreshed every period after commit.
    with django_assert_num_queries(0):
        response = api_client.get(URL, {"period": "all_time", "limit": 100, "offset": 50})
    body = response.json()
    assert response.status_code == 200
    assert body["results"][0]["rank"] == 51
    assert len(body["results"]) == min(100, body["total"] - 50)


def test_a_cold_cache_is_rebuilt_from_the_database(api_client, synced):
    warm = api_client.get(URL).json()
    leaderboard_cache_clear()
    assert api_client.get(URL).json() == warm


def test_the_leaderboard_is_correct_after_every_sync(api_client, synced, django_capture_on_commit_callbacks):
    before = api_client.get(URL, {"period": "today", "limit": 1}).json()["results"][0]
    last = Player.objects.filter(wager_today__gt=0).order_by("wager_today").first()
    Player.objects.filter(pk=last.pk).update(wager_today=Decimal("99999999"))  # a stale row the feed corrects
    # The feed is the truth: the next sync puts the counter back and the cache follows.
    with django_capture_on_commit_callbacks(execute=True):
        sync_wagers()
    after = api_client.get(URL, {"period": "today", "limit": 1}).json()["results"][0]
    assert after["uid"] == before["uid"]


def test_tier_edits_by_operators_clear_the_cached_badges(api_client, synced, django_capture_on_commit_callbacks):
    assert cache.get(CACHE_KEY.format(period="monthly")) is not None
    with django_capture_on_commit_callbacks(execute=True):
        VipTier.objects.filter(name="Copper").update(name="Copper")  # update() sends no signal: nothing cleared
        tier = VipTier.objects.get(name="Bronze")
        tier.name = "Bronze Star"
        tier.save()
    assert cache.get(CACHE_KEY.format(period="monthly")) is None
    names = {r["tier"] for r in api_client.get(URL, {"period": "all_time", "limit": 100}).json()["results"]}
    assert "Bronze" not in names


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "yearly"}, "period", "today, weekly, monthly, all_time"),
        ({"limit": "101"}, "limit", "from 1 to 100"),
        ({"limit": "0"}, "limit", "from 1 to 100"),
        ({"limit": "ten"}, "limit", "from 1 to 100"),
        ({"offset": "-1"}, "offset", "from 0 to"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_allowed_values(api_client, params, field, message):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["fields"][field][0]


def test_an_empty_leaderboard_before_the_first_sync(api_client):
    body = api_client.get(URL).json()
    assert body == {"period": "monthly", "updated_at": None, "total": 0, "results": []}


# --- demo feed and token ----------------------------------------------------------------------------------


def test_the_demo_feed_is_deterministic_for_a_moment_and_grows_over_time():
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert demo_feed_payload(now) == demo_feed_payload(now)
    later = feed_rows_clean(demo_feed_payload(now + timedelta(hours=1))["data"], 300).rows
    earlier = {r.uid: r for r in feed_rows_clean(demo_feed_payload(now)["data"], 300).rows}
    assert all(r.all_time >= earlier[r.uid].all_time and r.today >= earlier[r.uid].today for r in later)
    assert sum(r.today for r in later) > sum(r.today for r in earlier.values())
    # Period counters restart at their boundary: just after midnight "today" is small again.
    midnight = feed_rows_clean(demo_feed_payload(datetime(2026, 11, 23, 0, 1, tzinfo=UTC))["data"], 300).rows
    assert sum(r.today for r in midnight) < sum(r.today for r in later) / 100


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_the_token_expiry_is_read_from_a_jwt_and_unknown_otherwise():
    assert feed_token_expiry(_jwt({"exp": 1795000000})) == datetime.fromtimestamp(1795000000, UTC)
    assert feed_token_expiry("opaque-token") is None
    assert feed_token_expiry(_jwt({"sub": "x"})) is None
    assert feed_token_expiry("a.!!!.c") is None
    assert feed_token_expiry(_jwt({"exp": "tomorrow"})) is None
