"""Reads on accounts: profiles, who a Telegram user is, verification requests waiting for review."""

from __future__ import annotations

from accounts.models import User, VerificationRequest
from core.roles import is_verification_reviewer
from races.models import Player


def user_profile(user_id: int) -> User:
    return User.objects.select_related("player").get(pk=user_id)


def site_user_for(telegram_id: int) -> User | None:
    """The active site account linked to a Telegram account, if any."""
    return User.objects.filter(telegram_id=telegram_id, is_active=True).select_related("player").first()


def player_for(telegram_id: int) -> Player | None:
    """The Goated player of a Telegram user: through the linked site account, else an approved bot request."""
    user = site_user_for(telegram_id)
    if user and user.player_id:
        return user.player
    approved = (
        VerificationRequest.objects.filter(telegram_id=telegram_id, status=VerificationRequest.Status.APPROVED)
        .select_related("player")
        .order_by("-decided_at")
        .first()
    )
    return approved.player if approved else None


def verification_reviewers() -> list[User]:
    """Staff who review claims and can be told on Telegram."""
    staff = User.objects.filter(is_staff=True, is_active=True, telegram_id__isnull=False)
    return [user for user in staff if is_verification_reviewer(user)]


def verification_requests_pending(limit: int = 10) -> list[VerificationRequest]:
    return list(
        VerificationRequest.objects.filter(status=VerificationRequest.Status.PENDING)
        .select_related("player", "user")
        .order_by("requested_at")[:limit]
    )
