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


def account_for_telegram(telegram_id: int) -> User | None:
    """The site account linked to a Telegram account, banned or not (a banned one still owns its Telegram id)."""
    return User.objects.filter(telegram_id=telegram_id).select_related("player").first()


def _approvals_in_force():
    return VerificationRequest.objects.filter(status=VerificationRequest.Status.APPROVED, player__isnull=False)


def player_for(telegram_id: int) -> Player | None:
    """The Goated player a Telegram user acts as: the site's rule. With a site account, that account's linked
    player, and nothing while it is banned; without one, the approval in force of a claim made from Telegram
    alone (an unlink revokes it, linking an account carries it over). Never a stale or revoked request."""
    account = account_for_telegram(telegram_id)
    if account is not None:
        return account.player if account.is_active and account.player_id else None
    approved = _approvals_in_force().filter(telegram_id=telegram_id, user__isnull=True).select_related("player")
    held = approved.first()
    return held.player if held else None


def player_held_by_other(player: Player, *, user: User | None = None, telegram_id: int | None = None) -> bool:
    """Whether someone other than this person (a site account and/or a Telegram account) holds the player. The
    one rule for claims, approvals and linking: the holder is the account linked to the player (`User.player`)
    or the person named by its approval in force (constraint `verification_one_holder_per_player`)."""
    if User.objects.filter(player=player).exclude(pk=getattr(user, "pk", None)).exists():
        return True
    telegram_ids = {t for t in (telegram_id, getattr(user, "telegram_id", None)) if t}
    for approval in _approvals_in_force().filter(player=player):
        if approval.user_id is not None:
            mine = user is not None and approval.user_id == user.pk
        else:
            mine = approval.telegram_id in telegram_ids
        if not mine:
            return True
    return False


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
