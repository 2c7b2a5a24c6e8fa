"""Writes on players and races."""

from __future__ import annotations

from django.db import transaction

from races.models import PERIOD_FIELD, Player
from races.selectors import leaderboard_queryset

RANK_FIELD = {
    "today": "rank_today",
    "weekly": "rank_weekly",
    "monthly": "rank_monthly",
    "all_time": "rank_all_time",
}


@transaction.atomic
def player_ranks_recompute() -> None:
    """Store each player's global rank for the four periods (portable version: works on any database)."""
    players = {p.pk: p for p in Player.objects.all()}
    for period in PERIOD_FIELD:
        for rank, pk in enumerate(leaderboard_queryset(period).values_list("pk", flat=True), start=1):
            setattr(players[pk], RANK_FIELD[period], rank)
    Player.objects.bulk_update(players.values(), list(RANK_FIELD.values()), batch_size=1000)
