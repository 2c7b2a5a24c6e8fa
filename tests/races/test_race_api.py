from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from races.models import RaceProgressSample, WagerRace
from races.services.lifecycle import race_finalize, race_start
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, WagerRaceFactory


@pytest.fixture
def live_race(db):
    now = timezone.now()
    race = WagerRaceFactory(
        title="Live Monthly",
        start_date=now - timedelta(days=1),
        end_date=now + timedelta(days=2),
        prize_distribution={"1": 50, "2": 30, "3": 20},
        min_wager=Decimal("100"),
    )
    race_start(race.pk, now=race.start_date)
    for i, month in enumerate(["900.5", "700", "50"]):
        PlayerFactory(uid=f"u{i}", name=f"Goat{i}", wager_month=Decimal(month), wager_all_time=Decimal(month))
    races_refresh_after_sync(now)
    race.refresh_from_db()
    return race


@pytest.fixture
def completed_race(live_race):
    race_finalize(live_race.pk, force=True)
    live_race.refresh_from_db()
    return live_race


def test_race_list_is_paginated_and_filterable(api_client, live_race):
    WagerRaceFactory(title="Later", type=WagerRace.Type.WEEKLY)
    body = api_client.get("/api/v1/races/").json()
    assert body["count"] == 2
    assert [r["title"] for r in api_client.get("/api/v1/races/?status=live").json()["results"]] == ["Live Monthly"]
    assert [r["title"] for r in api_client.get("/api/v1/races/?type=weekly").json()["results"]] == ["Later"]
    page = api_client.get("/api/v1/races/?limit=1&offset=1").json()
    assert len(page["results"]) == 1
    assert page["previous"] is not None


def test_race_list_item_shape(api_client, live_race):
    item = api_client.get("/api/v1/races/").json()["results"][0]
    assert item["prize_pool"] == "500.00"
    assert item["min_wager"] == "100.00"
    assert item["status"] == "live"
    assert 0 < item["time_left_seconds"] <= 2 * 86400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=paused", "status", "Must be one of: upcoming, live, completed, cancelled."),
        ("type=daily", "type", "Must be one of: weekly, monthly, weekend, custom."),
        ("limit=0", "limit", "Must be a whole number from 1 to 100."),
        ("limit=abc", "limit", "Must be a whole number from 1 to 100."),
        ("offset=-1", "offset", "Must be a whole number from 0 to 10000000."),
    ],
)
def test_bad_race_list_filters_are_400_naming_the_allowed_values(api_client, query, field, message):
    response = api_client.get(f"/api/v1/races/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}


def test_race_detail_has_standings_prizes_and_time_left(api_client, live_race):
    body = api_client.get(f"/api/v1/races/{live_race.pk}/").json()
    assert body["standings_total"] == 3
    assert body["standings"] == [
        {"rank": 1, "uid": "u0", "name": "Goat0", "wagered": "900.50", "prize": "250.00", "prize_eligible": True},
        {"rank": 2, "uid": "u1", "name": "Goat1", "wagered": "700.00", "prize": "150.00", "prize_eligible": True},
        {"rank": 3, "uid": "u2", "name": "Goat2", "wagered": "50.00", "prize": "0.00", "prize_eligible": False},
    ]
    assert body["prizes"] == [
        {"rank": 1, "percent": "50.000", "amount": "250.00"},
        {"rank": 2, "percent": "30.000", "amount": "150.00"},
        {"rank": 3, "percent": "20.000", "amount": "100.00"},
    ]
    assert body["time_left_seconds"] > 0


def test_race_detail_pages_its_standings(api_client, live_race):
    body = api_client.get(f"/api/v1/races/{live_race.pk}/?limit=1&offset=1").json()
    assert [s["rank"] for s in body["standings"]] == [2]
    assert api_client.get(f"/api/v1/races/{live_race.pk}/?limit=101").status_code == 400


def test_race_detail_query_count_does_not_grow_with_standings(api_client, live_race, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        api_client.get(f"/api/v1/races/{live_race.pk}/?limit=100")
    for i in range(50):
        PlayerFactory(uid=f"extra{i}", wager_month=Decimal(i + 1))
    races_refresh_after_sync(timezone.now())
    with django_assert_max_num_queries(4):
        assert len(api_client.get(f"/api/v1/races/{live_race.pk}/?limit=100").json()["standings"]) == 53


@pytest.mark.django_db
def test_unknown_race_is_a_json_404(api_client):
    for path in ("/api/v1/races/999/", "/api/v1/races/999/results/", "/api/v1/races/999/progress/"):
        response = api_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Race 999 does not exist."}}


def test_current_race_defaults_to_the_live_monthly_one(api_client, live_race):
    assert api_client.get("/api/v1/races/current/").json()["id"] == live_race.pk


def test_current_race_of_a_type_with_none_live_is_404(api_client, live_race):
    response = api_client.get("/api/v1/races/current/?type=weekly")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No weekly race is live right now."


@pytest.mark.django_db
def test_current_race_with_a_bad_type_is_400(api_client):
    assert api_client.get("/api/v1/races/current/?type=yearly").status_code == 400


def test_results_of_a_live_race_are_409_until_it_is_completed(api_client, live_race):
    response = api_client.get(f"/api/v1/races/{live_race.pk}/results/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_finalized"


def test_results_of_a_completed_race_are_its_frozen_standings(api_client, completed_race):
    rows = api_client.get(f"/api/v1/races/{completed_race.pk}/results/").json()
    assert [(r["rank"], r["uid"], r["prize"]) for r in rows] == [
        (1, "u0", "250.00"),
        (2, "u1", "150.00"),
        (3, "u2", "0.00"),
    ]
    detail = api_client.get(f"/api/v1/races/{completed_race.pk}/").json()
    assert detail["status"] == "completed"
    assert detail["time_left_seconds"] == 0
    assert [s["prize"] for s in detail["standings"]] == ["250.00", "150.00", "0.00"]


def test_standings_are_shown_exactly_as_the_standing_serializer_shows_them(live_race):
    from races.api import StandingSerializer, standings_data
    from races.models import RaceResult
    from races.selectors.races import StandingRow, race_standings

    rows = [
        *race_standings(live_race, limit=10)[1],
        StandingRow(4, "u<4>", "Émilie 🐐", Decimal("12345678901234.5"), None, False),
        StandingRow(5, "u5", "", Decimal("0"), Decimal("7"), True),
        StandingRow(6, "u6", "x", Decimal("0.005"), Decimal("1.125"), True),
    ]
    assert standings_data(rows) == StandingSerializer(rows, many=True).data
    race_finalize(live_race.pk, force=True)
    results = list(RaceResult.objects.filter(race=live_race).order_by("rank"))
    assert len(results) == 3
    assert standings_data(results) == StandingSerializer(results, many=True).data


def test_progress_history_lists_samples_in_time_order(api_client, live_race):
    RaceProgressSample.objects.create(
        race=live_race, taken_at=datetime(2026, 1, 1, tzinfo=UTC), standings=[["u9", "Old", "1.00", 1]]
    )
    body = api_client.get(f"/api/v1/races/{live_race.pk}/progress/").json()
    assert body["race_id"] == live_race.pk
    assert body["samples"][0]["standings"] == [{"uid": "u9", "name": "Old", "wagered": "1.00", "rank": 1}]
    assert len(body["samples"]) == 2
