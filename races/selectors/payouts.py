"""Payouts as players see them."""

from __future__ import annotations

from django.db.models import QuerySet

from races.models import Payout


def payouts_for_user(user) -> QuerySet[Payout]:
    """The signed-in player's payouts (through their linked Goated account), newest first."""
    if not getattr(user, "player_id", None):
        return Payout.objects.none()
    return (
        Payout.objects.filter(player_id=user.player_id).select_related("race", "result").order_by("-created_at", "-pk")
    )


def payout_statuses_for_results(result_ids) -> dict[int, Payout]:
    """result id → its payout, for pages that list results (one query)."""
    return {p.result_id: p for p in Payout.objects.filter(result_id__in=list(result_ids))}
