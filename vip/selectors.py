"""Reads on rewards."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from vip.models import BonusCode, BonusCodeClaim, WheelSpin
from vip.services import bonus_code_visible


def bonus_codes_for(user, limit: int = 100) -> list[BonusCode]:
    """Active, unexpired codes the user may see (public, their tier's, their personal ones), newest first."""
    now = timezone.now()
    codes = (
        BonusCode.objects.filter(is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(owner__isnull=True) | Q(owner=user))
        .select_related("min_tier")
        .annotate(claimed=Exists(BonusCodeClaim.objects.filter(code=OuterRef("pk"), user=user)))
        .order_by("-created_at")
    )
    return [c for c in codes[:limit] if bonus_code_visible(c, user)]


def wheel_history(user, limit: int = 30) -> list[WheelSpin]:
    return list(WheelSpin.objects.filter(user=user).select_related("segment", "reward_code")[:limit])
