"""Self-exclusion (issue 35): a player steps away for 1, 7, 30 or 180 days, or for good.

While it lasts (`User.self_excluded_until` in the future; `PERMANENT_UNTIL` for a permanent one) the player is
refused every reward and entry with 403 `self_excluded` before any other rule (vip.selectors.reward_refusal, the
race entry rules, raffles), gets no promotional or race message on any channel (notifications.notify), and their
Goated name is hidden on every public surface (`Player.hidden_until`, races.feed.names). They can still sign in,
read their history and open support tickets. It cannot be shortened or lifted early — not by an operator; only a
superuser can lift one, with a reason, audited.

The bot starts one without ever asking for a password in Telegram: `/break` sends a signed link to the site's
confirmation page (`self_exclusion_link`), valid for BREAK_LINK_MINUTES and only until a break is started with it
(it names how many the account had when it was made). The page asks for the period and the password. When a break
has run out, `self_exclusion_end_announce` (a periodic task) tells the player once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import SelfExclusion, User
from core.audit import audit_record
from core.errors import Conflict, Forbidden, ServiceError
from core.models import AuditEntry
from notifications.services import notify
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


# --- the bot's link to the confirmation page ---------------------------------------------------------------------

BREAK_LINK_SALT = "accounts.self-exclusion-link"
BREAK_LINK_MINUTES = 30


class BreakLinkInvalid(ServiceError):
    code = "invalid_link"


def self_exclusion_link(user: User) -> str:
    """The absolute URL of the confirmation page for `user`: signed, expiring, dead once a break starts."""
    token = signing.dumps({"u": user.pk, "n": user.self_exclusions.count()}, salt=BREAK_LINK_SALT, compress=True)
    return settings.SITE_URL.rstrip("/") + reverse("accounts:break", args=[token])


def self_exclusion_link_user(token: str) -> User:
    """The account a confirmation link was made for; BreakLinkInvalid if it is forged, old, used or the account
    is closed."""
    try:
        data = signing.loads(token, salt=BREAK_LINK_SALT, max_age=BREAK_LINK_MINUTES * 60)
        user = User.objects.filter(pk=int(data["u"]), is_active=True).first()
        used = user is None or user.self_exclusions.count() != int(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        user, used = None, True
    if used:
        raise BreakLinkInvalid(
            f"This link is not valid any more (links work once and for {BREAK_LINK_MINUTES} minutes). "
            "Send /break to the bot for a new one, or take a break in your account settings."
        )
    return user


@transaction.atomic
def self_exclusion_start_from_link(token: str, period: str, *, password: str) -> SelfExclusion:
    """The confirmation page: the link names the account, its password confirms the break."""
    user = self_exclusion_link_user(token)
    User.objects.select_for_update().get(pk=user.pk)  # two tabs of one link: the second sees the first's break
    self_exclusion_link_user(token)
    return self_exclusion_start(user, period, password=password, source=AuditEntry.Source.SERVICE)


# --- the end of a break --------------------------------------------------------------------------------------------


BREAK_ENDED = ("Rewards, raffles and races are open to you again, and your name shows as you chose. Play within "
               "your means; you can take another break any time in your account settings.")  # fmt: skip


def self_exclusion_end_announce(*, now: datetime | None = None) -> int:
    """Tell each player whose break has run out (and was not followed by a longer one) that it is over, once:
    the rows are claimed by a conditional UPDATE, so two runs at once announce nothing twice. How many were told."""
    now = now or timezone.now()
    ended = SelfExclusion.objects.filter(
        ends_at__lte=now, lifted_at__isnull=True, end_announced_at__isnull=True, user__self_excluded_until__lte=now
    )
    told = 0
    for user_id in set(ended.values_list("user_id", flat=True)):
        with transaction.atomic():
            if not ended.filter(user_id=user_id).update(end_announced_at=now):
                continue  # another run claimed it
            user = User.objects.get(pk=user_id)
            notify(user, "break.ended", title="Your break is over", body=BREAK_ENDED, url=reverse("accounts:settings"),
                   dedupe_key=f"break-ended:{user_id}:{now.timestamp():.0f}")  # fmt: skip
            told += 1
    return told
