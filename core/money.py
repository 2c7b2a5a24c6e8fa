"""The one rounding rule for money shown or paid: cut to cents (rounded down), never rounded up.

Wagers are stored exactly (8 decimals) and shown cut to cents everywhere (leaderboards, races, bot, admin), so
two screens never disagree by a cent; prizes are cut to cents so their total never exceeds the pool.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """``amount`` cut to whole cents (1.999 → 1.99, -1.999 → -1.99)."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def money_text(amount: Decimal) -> str:
    """``$1,234.56``: cents cut, thousands separated (for messages and admin columns)."""
    value = cents(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,}"
