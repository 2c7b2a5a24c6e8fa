"""Payouts as players see them."""

from __future__ import annotations

from django.db.models import QuerySet

from payouts.models import Payout


def payouts_for_user(user) -> QuerySet[Payout]:
    """The signed-in player's payouts (through their linked Goated account), newest first."""
    if not getattr(user, "player_id", None):
        return Payout.objects.none()
    return (
        Payout.objects.filter(player_id=user.player_id)
        .select_related("race", "result", "raffle", "raffle_winner")
        .order_by("-created_at", "-pk")
    )
