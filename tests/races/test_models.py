from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from races.models import Player, WagerRace
from races.validators import parse_prize_distribution
from tests.factories import PlayerFactory, WagerRaceFactory

# The original system shipped this table; it pays out 103.5 % of the pool.
ORIGINAL_BAD_TABLE = {"1": 42.5, "2": 20, "3": 15, "4": 7.5, "5": 5, "6": 4, "7": 3, "8": 2.5, "9": 2, "10": 2}


@pytest.mark.django_db
def test_duplicate_player_uid_is_rejected_by_the_database():
    PlayerFactory(uid="aB3dE5fG7hI9jK1lM2nO")
    with pytest.raises(IntegrityError), transaction.atomic():
        Player.objects.create(uid="aB3dE5fG7hI9jK1lM2nO", name="Impostor")


@pytest.mark.django_db
def test_duplicate_player_uid_gets_a_clear_validation_message():
    PlayerFactory(uid="aB3dE5fG7hI9jK1lM2nO")
    with pytest.raises(ValidationError) as exc:
        Player(uid="aB3dE5fG7hI9jK1lM2nO", name="Impostor").full_clean()
    assert "Player with this Uid already exists." in exc.value.message_dict["uid"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["wager_today", "wager_week", "wager_month", "wager_all_time"])
def test_negative_wager_is_rejected_by_the_database(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlayerFactory(**{field: Decimal("-0.01")})


@pytest.mark.django_db
def test_negative_wager_gets_a_clear_validation_message():
    with pytest.raises(ValidationError) as exc:
        Player(uid="x" * 20, name="Neg", wager_month=Decimal("-5")).full_clean()
    assert exc.value.message_dict["wager_month"] == ["Ensure this value is greater than or equal to 0."]


@pytest.mark.django_db
def test_wagers_keep_eight_decimals_exactly():
    p = PlayerFactory(wager_month=Decimal("0.1") + Decimal("0.2"), wager_all_time=Decimal("1250380.99121"))
    p.refresh_from_db()
    assert p.wager_month == Decimal("0.3")
    assert p.wager_all_time == Decimal("1250380.99121")


def test_original_prize_table_over_100_percent_is_rejected():
    with pytest.raises(ValidationError) as exc:
        parse_prize_distribution(ORIGINAL_BAD_TABLE)
    assert exc.value.messages == ["Prize percentages add up to 103.5 %; the total must be at most 100 %."]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"1": 50, "3": 20}, "Ranks must run 1, 2, 3 … with no gaps."),
        ({"0": 50}, "Rank '0' must be a whole number from 1 to 100."),
        ({"first": 50}, "Rank 'first' is not a whole number."),
        ({"1": "lots"}, "Percentage for rank 1 must be a number."),
        ({"1": -5}, "Percentage for rank 1 must be above 0 and at most 100."),
        ({"1": True}, "Percentage for rank 1 must be a number."),
        ({"1": "NaN"}, "Percentage for rank 1 must be above 0 and at most 100."),
        ([50, 30], 'Prize distribution must be an object like {"1": 50, "2": 30}.'),
    ],
)
def test_malformed_prize_tables_are_rejected_with_a_reason(table, message):
    with pytest.raises(ValidationError) as exc:
        parse_prize_distribution(table)
    assert exc.value.messages == [message]


def test_a_full_100_percent_table_is_accepted_exactly():
    parsed = parse_prize_distribution({"1": 42.5, "2": 20, "3": 15, "4": 7.5, "5": 5, "6": 4, "7": 3, "8": 2, "9": 1})
    assert sum(parsed.values()) == Decimal("100")
    assert parsed[1] == Decimal("42.5")


@pytest.mark.django_db
def test_race_clean_reports_distribution_and_window_errors_together():
    now = timezone.now()
    race = WagerRace(
        title="Bad",
        prize_pool=Decimal("500"),
        start_date=now,
        end_date=now - timedelta(days=1),
        prize_distribution=ORIGINAL_BAD_TABLE,
    )
    with pytest.raises(ValidationError) as exc:
        race.full_clean()
    assert exc.value.message_dict["end_date"] == ["The race must end after it starts."]
    assert "the total must be at most 100 %" in exc.value.message_dict["prize_distribution"][0]


@pytest.mark.django_db
def test_race_ending_before_it_starts_is_rejected_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRaceFactory(end_date=timezone.now() - timedelta(days=400))


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["prize_pool", "min_wager"])
def test_negative_race_amounts_are_rejected_by_the_database(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRaceFactory(**{field: Decimal("-1.00")})


@pytest.mark.django_db
def test_unknown_race_status_is_rejected_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRaceFactory(status="paused")


@pytest.mark.django_db
def test_a_race_repeats_into_at_most_one_next_race():
    first = WagerRaceFactory()
    WagerRaceFactory(recurs_from=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRaceFactory(recurs_from=first)
