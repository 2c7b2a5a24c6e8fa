"""Validation of race settings shared by model ``clean()``, forms and services."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

MAX_PRIZE_RANKS = 100


def parse_prize_distribution(value) -> dict[int, Decimal]:
    """Return ``{rank: percent}`` from a ``{"1": 42.5, ...}`` mapping, or raise ValidationError.

    Rules: ranks are whole numbers 1..N with no gaps, each percentage is > 0 and the total is at most 100.
    """
    if not isinstance(value, dict):
        raise ValidationError('Prize distribution must be an object like {"1": 50, "2": 30}.', code="invalid")
    parsed: dict[int, Decimal] = {}
    for raw_rank, raw_pct in value.items():
        try:
            rank = int(str(raw_rank))
        except ValueError:
            raise ValidationError(f"Rank {raw_rank!r} is not a whole number.", code="invalid_rank") from None
        if str(rank) != str(raw_rank).strip() or rank < 1 or rank > MAX_PRIZE_RANKS:
            raise ValidationError(f"Rank {raw_rank!r} must be a whole number from 1 to {MAX_PRIZE_RANKS}.")
        if isinstance(raw_pct, bool):
            raise ValidationError(f"Percentage for rank {rank} must be a number.", code="invalid_percent")
        try:
            pct = Decimal(str(raw_pct))
        except (InvalidOperation, ValueError):
            raise ValidationError(f"Percentage for rank {rank} must be a number.", code="invalid_percent") from None
        if not pct.is_finite() or pct <= 0 or pct > 100:
            raise ValidationError(f"Percentage for rank {rank} must be above 0 and at most 100.")
        if rank in parsed:
            raise ValidationError(f"Rank {rank} appears twice.", code="duplicate_rank")
        parsed[rank] = pct
    if parsed and sorted(parsed) != list(range(1, len(parsed) + 1)):
        raise ValidationError("Ranks must run 1, 2, 3 … with no gaps.", code="ranks_not_contiguous")
    total = sum(parsed.values(), Decimal(0))
    if total > 100:
        raise ValidationError(
            f"Prize percentages add up to {total.normalize():f} %; the total must be at most 100 %.",
            code="over_100_percent",
        )
    return parsed


def validate_prize_distribution(value) -> None:
    parse_prize_distribution(value)
