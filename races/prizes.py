"""The prize rule (docs/design.md §5): prize = pool × percent / 100, cut to cents, so prizes never exceed the pool."""

from __future__ import annotations

from decimal import Decimal

from core.money import cents
from races.validators import parse_prize_distribution


def prize_table(prize_pool: Decimal, distribution: dict) -> dict[int, Decimal]:
    """Prize per rank for a pool and a `{"1": 50, ...}` table (validated: ranks 1..N, total ≤ 100 %)."""
    return {
        rank: cents(prize_pool * pct / Decimal(100)) for rank, pct in parse_prize_distribution(distribution).items()
    }


def prize_for(prizes: dict[int, Decimal], rank: int | None, eligible: bool) -> Decimal:
    """What a standing wins from a prize table: its rank's prize if it is eligible (over the minimum wager)."""
    return prizes.get(rank, Decimal("0")) if eligible else Decimal("0")
