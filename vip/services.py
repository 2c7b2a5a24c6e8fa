"""Writes on rewards: bonus code claims and generation, the provably fair daily wheel.

Rewards are for real players: claiming and spinning need a confirmed email and a verified linked Goated player
(`vip.selectors.reward_refusal`), a code's required wager is checked against that player's counter, and a player
gets one spin a day however many accounts it passed through. Every refusal is a 403 with a code per reason.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import Forbidden, NotFound, ServiceError
from core.features import feature_enabled
from core.models import AuditEntry
from core.money import money_text
from notifications.services import notify
from vip.fairness import new_server_seed, seed_hash, table_of, table_to_json, wheel_pick, wheel_roll
from vip.models import BonusCode, BonusCodeClaim, VipTier, WagerPeriod, WheelSeed, WheelSpin
from vip.selectors import (
    Refusal,
    TierTable,
    WheelState,
    bonus_code_visible,
    players_reaching_q,
    reward_refusal,
    self_exclusion_refusal,
    wager_shortfall,
    wheel_segments,
)

WHEEL_REWARD_DAYS = 7
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed by hand


class RewardRefused(Forbidden):
    """A claim or spin the rules refuse; `code` says which rule (docs/rewards.md lists them)."""


# Kept for callers that catch claim refusals by this name.
ClaimRefused = RewardRefused


def _require_eligible(user) -> None:
    refusal = reward_refusal(user)
    if refusal is not None:
        raise RewardRefused(refusal.message, code=refusal.code)


# --- bonus codes ----------------------------------------------------------------------------------------------


def bonus_code_claim(user, raw_code: str) -> BonusCodeClaim:
    """Claim a code once per user and at most one code of a generated batch per user, never beyond its limit,
    whatever the concurrency (a conditional UPDATE of the counter plus the claim row, unique per code and user
    and per batch and user, in one transaction)."""
    excluded = self_exclusion_refusal(user)  # before every other rule, the code's own included
    if excluded is not None:
        raise RewardRefused(excluded.message, code=excluded.code)
    code = BonusCode.objects.select_related("min_tier").filter(code=(raw_code or "").strip().upper()).first()
    if code is None or not bonus_code_visible(code, user):
        raise NotFound("There is no such bonus code.")  # a members-only code does not reveal itself
    if not code.is_active:
        raise RewardRefused("This code is no longer active.", code="expired")
    if code.is_expired:
        raise RewardRefused("This code has expired.", code="expired")
    _require_eligible(user)
    shortfall = wager_shortfall(code, user.player)
    if shortfall is not None:
        raise RewardRefused(shortfall, code="wager_too_low")
    try:
        with transaction.atomic():
            claim = BonusCodeClaim.objects.create(code=code, user=user, batch=code.batch)
            counted = (
                BonusCode.objects.filter(pk=code.pk, is_active=True)
                .filter(Q(claim_limit__isnull=True) | Q(claims_count__lt=F("claim_limit")))
                .update(claims_count=F("claims_count") + 1)
            )
            if counted != 1:
                raise RewardRefused("All claims of this code are taken. Watch for the next one!", code="limit_reached")
    except IntegrityError:
        # Which unique constraint refused: this code, or another code of its batch.
        if BonusCodeClaim.objects.filter(code=code, user=user).exists():
            raise RewardRefused("You have already claimed this code.", code="already_claimed") from None
        if code.batch is not None and BonusCodeClaim.objects.filter(batch=code.batch, user=user).exists():
            raise RewardRefused(_BATCH_CLAIMED, code="already_claimed") from None
        raise  # not a claim the rules refuse: a real fault, reported as one
    return claim


_BATCH_CLAIMED = "You already claimed a code from this batch."


def bonus_codes_generate(
    *, prefix: str, count: int, amount: Decimal, required_wager: Decimal = Decimal("0"),
    required_wager_period: str = WagerPeriod.ALL_TIME, claim_limit: int | None = 1,
    expires_at: datetime | None = None, days_valid: int | None = 30,
    audience: str = BonusCode.Audience.EVERYONE, min_tier: VipTier | None = None, description: str = "",
    actor=None, source: str = AuditEntry.Source.SERVICE,
) -> list[BonusCode]:  # fmt: skip
    """Create `count` unique codes PREFIX-XXXXXXXX of one new batch (an account claims at most one of them),
    each with the same amount, required wager, claim limit, expiry (`expires_at`, else `days_valid` from now),
    audience and minimum tier; the model validates them as it does a single code (audited)."""
    prefix = (prefix or "GV").strip().upper()[:12]
    if not 1 <= count <= 1000:
        raise ServiceError("Generate between 1 and 1,000 codes at a time.", fields={"count": ["1 to 1000"]})
    if expires_at is None and days_valid:
        expires_at = timezone.now() + timedelta(days=days_valid)
    batch = uuid.uuid4()
    with transaction.atomic():
        codes = []
        while len(codes) < count:
            text = f"{prefix}-{''.join(secrets.choice(_CODE_ALPHABET) for _ in range(8))}"
            code = BonusCode(
                code=text, amount=amount, required_wager=required_wager, required_wager_period=required_wager_period,
                claim_limit=claim_limit, expires_at=expires_at, audience=audience, min_tier=min_tier,
                description=description, batch=batch,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )  # fmt: skip
            try:
                code.full_clean(validate_unique=False)
            except ValidationError as exc:
                fields = getattr(exc, "message_dict", {})
                raise ServiceError(" ".join(exc.messages), fields=fields) from None
            codes.append(code)
        BonusCode.objects.bulk_create(codes)
        audit_record(
            actor=actor,
            action="bonus_code.generate",
            after={
                "prefix": prefix, "count": count, "batch": str(batch), "amount": amount, "claim_limit": claim_limit,
                "required_wager": required_wager, "required_wager_period": required_wager_period,
                "expires_at": expires_at.isoformat() if expires_at else None, "audience": audience,
                "min_tier": min_tier.name if min_tier else None,
            },
            source=source,
        )  # fmt: skip
    return codes


def bonus_codes_deactivate(code_ids: list[int], *, actor, source: str = AuditEntry.Source.SERVICE) -> int:
    """Switch codes off (claims made so far stay valid); one audit entry names the codes that changed."""
    with transaction.atomic():
        ids = list(BonusCode.objects.filter(pk__in=code_ids, is_active=True).values_list("pk", flat=True))
        BonusCode.objects.filter(pk__in=ids).update(is_active=False)
        if ids:
            audit_record(actor=actor, action="bonus_code.deactivate", after={"ids": ids}, source=source)
    return len(ids)


# --- the wheel ------------------------------------------------------------------------------------------------


_ALREADY_SPUN = "You have already spun the wheel today (UTC). Come back tomorrow!"
_PLAYER_SPUN_TEXT = "Your Goated player already had today's spin (from another account). Come back tomorrow!"
_PLAYER_SPUN = Refusal("already_spun", _PLAYER_SPUN_TEXT)


def wheel_seed_commit(user, day) -> WheelSeed:
    """The user's server seed for `day`, drawn at random the first time it is asked for and stored, so its hash
    can be shown before the spin that uses it (two requests at once both get the one stored)."""
    seed = WheelSeed.objects.filter(user=user, day=day).first()
    if seed is not None:
        return seed
    server_seed = new_server_seed()
    try:
        with transaction.atomic():
            return WheelSeed.objects.create(
                user=user, day=day, server_seed=server_seed, server_seed_hash=seed_hash(server_seed)
            )
    except IntegrityError:
        return WheelSeed.objects.get(user=user, day=day)


def wheel_state(user) -> WheelState:
    """What the wheel page and API show: whether the user may spin now (and why not), the segments, and the
    committed hash of the seed their next spin will use (stored now: the commitment)."""
    now = timezone.now()
    today = now.date()
    spin = WheelSpin.objects.filter(user=user, spin_date=today).select_related("segment", "reward_code").first()
    tomorrow = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    refusal = reward_refusal(user)
    another_account_spun = (
        spin is None
        and refusal is None
        and user.player_id is not None
        and WheelSpin.objects.filter(player_id=user.player_id, spin_date=today).exists()
    )
    if another_account_spun:
        refusal = _PLAYER_SPUN
    seed = wheel_seed_commit(user, tomorrow.date() if spin else today)
    return WheelState(
        eligible=spin is None and refusal is None,
        refusal=None if spin else refusal,
        server_seed_hash=seed.server_seed_hash,
        nonce=WheelSpin.objects.filter(user=user).count(),
        next_spin_at=tomorrow.isoformat() if spin else None,
        segments=wheel_segments(),
        today_spin=spin,
    )


def wheel_spin(user, client_seed: str | None = None) -> WheelSpin:
    """One spin per user and per Goated player per UTC day (unique constraints decide between concurrent spins),
    drawn from the seed committed for today and the segment table stored with the spin."""
    _require_eligible(user)
    segments = wheel_segments()
    if not segments:
        raise ServiceError("The wheel is not set up yet.", code="wheel_empty")
    client_seed = (client_seed or "").strip()[:64] or secrets.token_hex(8)
    today = timezone.now().date()
    seed = wheel_seed_commit(user, today)
    by_position = {s.position: s for s in segments}
    table = table_of(segments)
    try:
        with transaction.atomic():
            nonce = WheelSpin.objects.filter(user=user).count()
            roll = wheel_roll(seed.server_seed, client_seed, nonce, sum(s.weight for s in table))
            segment = by_position[wheel_pick(table, roll).position]
            reward = None
            if segment.reward_amount > 0:
                reward = BonusCode.objects.create(
                    code=f"WHEEL-{secrets.token_hex(5).upper()}", amount=segment.reward_amount, claim_limit=1,
                    expires_at=timezone.now() + timedelta(days=WHEEL_REWARD_DAYS), owner=user,
                    source=BonusCode.Source.WHEEL, description=f"Wheel prize: {segment.label}",
                )  # fmt: skip
            spin = WheelSpin.objects.create(
                user=user, player_id=user.player_id, spin_date=today, segment=segment, server_seed=seed.server_seed,
                server_seed_hash=seed.server_seed_hash, client_seed=client_seed, nonce=nonce, roll=roll,
                reward_code=reward, segment_table=table_to_json(table),
            )  # fmt: skip
            if reward is not None:
                notify(
                    user, "reward.won", title=f"You won {money_text(reward.amount)} on the wheel",
                    body=f"Your bonus code {reward.code} is valid for {WHEEL_REWARD_DAYS} days.", url="/bonus-codes/",
                    dedupe_key=f"wheel:{spin.pk}",
                )  # fmt: skip
            return spin
    except IntegrityError:
        mine = WheelSpin.objects.filter(user=user, spin_date=today).exists()
        raise RewardRefused(_ALREADY_SPUN if mine else _PLAYER_SPUN_TEXT, code="already_spun") from None


def bonus_code_announce(code_id: int) -> int:
    """A new code for a tier: each player of that tier and above hears of it (once), if they take promotions.
    Nobody hears of it while bonus codes are switched off (the page it points to answers 503)."""
    if not feature_enabled("bonus_codes"):
        return 0
    code = BonusCode.objects.select_related("min_tier").filter(pk=code_id, is_active=True).first()
    if code is None or code.min_tier is None or code.owner_id is not None or code.is_expired:
        return 0
    users = get_user_model().objects.filter(players_reaching_q(code.min_tier, "player__wager_all_time"), is_active=True)
    told = 0
    for user in users.select_related("player").order_by("pk").iterator():
        note = notify(
            user, "bonus.new", title=f"A new bonus code for {code.min_tier.name} players: {code.code}",
            body=f"{money_text(code.amount)}" + (f" · {code.description}" if code.description else ""),
            url="/bonus-codes/", dedupe_key=f"bonus-new:{code.pk}",
        )  # fmt: skip
        told += note is not None
    return told


def tier_climbs_notify(climbs: Iterable[tuple[object, Decimal, Decimal]]) -> int:
    """Tell each user whose all-time wager climbed into a higher VIP tier, once per tier. `climbs` holds
    (user, all-time before, all-time after): the sync passes them in (vip sits below the feed and knows no
    Player)."""
    table = TierTable()
    told = 0
    for user, before, after in climbs:
        old, new = table.tier_for(before), table.tier_for(after)
        if new is None or (old is not None and new.min_wager <= old.min_wager):
            continue
        following = table.progress(after).next
        body = f"Next: {following.name} at {money_text(following.min_wager)} all-time." if following else "The top!"
        note = notify(
            user, "vip.tier", title=f"You reached {new.name}!", body=body, url="/vip/",
            dedupe_key=f"vip-tier:{new.slug}",
        )  # fmt: skip
        told += note is not None
    return told
