"""Self-exclusion (issue 35): a player steps away for 1, 7, 30 or 180 days, or for good.

While it lasts (`User.self_excluded_until` in the future; `PERMANENT_UNTIL` for a permanent one) the player is
refused every reward and entry with 403 `self_excluded` before any other rule (vip.selectors.reward_refusal, the
race entry rules, raffles), gets no promotional or race message on any channel (notifications.notify), and their
Goated name is hidden on every public surface (`Player.hidden_until`, races.feed.names). They can still sign in,
read their history and open support tickets. It cannot be shortened or lifted early — not by an operator; only a
superuser can lift one, with a reason, audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import SelfExclusion, User
from core.audit import audit_record
from core.errors import Conflict, Forbidden, ServiceError
from core.models import AuditEntry
from races.feed.models import Player

PERMANENT_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)
DAYS = {SelfExclusion.Period.DAY: 1, SelfExclusion.Period.WEEK: 7, SelfExclusion.Period.MONTH: 30,
        SelfExclusion.Period.HALF_YEAR: 180}  # fmt: skip


def self_exclusion_active(user: User, *, now: datetime | None = None) -> SelfExclusion | None:
    """The exclusion in force for `user` now, if any."""
    if user.self_excluded_until is None or user.self_excluded_until <= (now or timezone.now()):
        return None
    return user.self_exclusions.filter(lifted_at__isnull=True).order_by("-starts_at").first()


@transaction.atomic
def self_exclusion_start(
    user: User, period: str, *, password: str, now: datetime | None = None, source: str = AuditEntry.Source.API
) -> SelfExclusion:
    """Start a self-exclusion after checking the account's password. A shorter one than the one in force is
    refused (it cannot be shortened); a longer one replaces its end."""
    now = now or timezone.now()
    if period not in SelfExclusion.Period.values:
        choices = ", ".join(SelfExclusion.Period.values)
        raise ServiceError(f"Choose a period: {choices}.", fields={"period": [f"One of {choices}."]})
    if not password or not user.check_password(password):
        raise ServiceError("That is not your password.", fields={"password": ["Wrong password."]})
    ends_at = None if period == SelfExclusion.Period.PERMANENT else now + timedelta(days=DAYS[period])
    until = ends_at or PERMANENT_UNTIL
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.self_excluded_until is not None and locked.self_excluded_until > until:
        raise Conflict(
            f"You are already excluded until {locked.self_excluded_until:%d %b %Y %H:%M} UTC; it cannot be shortened.",
            code="cannot_shorten",
        )
    exclusion = SelfExclusion.objects.create(user=locked, period=period, starts_at=now, ends_at=ends_at)
    User.objects.filter(pk=locked.pk).update(self_excluded_until=until)
    user.self_excluded_until = until
    if locked.player_id is not None:
        Player.objects.filter(pk=locked.player_id).update(hidden_until=until)
    audit_record(actor=locked, action="self_exclusion.start", target=locked, after={"period": period,
                 "until": until.isoformat()}, source=source)  # fmt: skip
    return exclusion


@transaction.atomic
def self_exclusion_lift(user: User, *, actor, reason: str, source: str = AuditEntry.Source.ADMIN) -> bool:
    """End an exclusion early: a superuser only, with a reason (audited). False when none is in force."""
    if actor is None or not actor.is_superuser:
        raise Forbidden("Only a superuser can lift a self-exclusion early.", code="superuser_only")
    if not (reason or "").strip():
        raise ServiceError("Say why it is lifted early.", fields={"reason": ["Required."]})
    exclusion = self_exclusion_active(user)
    if exclusion is None:
        return False
    now = timezone.now()
    SelfExclusion.objects.filter(user=user, lifted_at__isnull=True).update(lifted_at=now, lifted_by=actor,
                                                                           lift_reason=reason.strip())  # fmt: skip
    User.objects.filter(pk=user.pk).update(self_excluded_until=None)
    if user.player_id is not None:
        Player.objects.filter(pk=user.player_id).update(hidden_until=None)
    audit_record(actor=actor, action="self_exclusion.lift", target=user, note=reason.strip(), source=source)
    return True
