"""Writes on rewards: bonus code claims and generation, the provably fair daily wheel."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from goatedvips.audit import audit_record
from goatedvips.errors import Conflict, NotFound, ServiceError
from vip.models import BonusCode, BonusCodeClaim, VipTier, WheelSegment, WheelSpin

WHEEL_REWARD_DAYS = 7
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed by hand


class ClaimRefused(ServiceError):
    code = "claim_refused"


# --- bonus codes ----------------------------------------------------------------------------------------------


def bonus_code_visible(code: BonusCode, user) -> bool:
    """Whether `user` may see (and so claim) the code: audience, minimum tier, personal owner."""
    if code.owner_id is not None:
        return code.owner_id == user.pk
    if code.audience == BonusCode.Audience.VERIFIED and not user.is_verified:
        return False
    if code.min_tier_id is not None:
        player = getattr(user, "player", None)
        if player is None or player.wager_all_time < code.min_tier.min_wager:
            return False
    return True


def bonus_code_claim(user, raw_code: str) -> BonusCodeClaim:
    """Claim a code once per user, never beyond its limit, whatever the concurrency (a conditional UPDATE of the
    counter plus the unique claim row, in one transaction)."""
    code = BonusCode.objects.select_related("min_tier").filter(code=(raw_code or "").strip().upper()).first()
    if code is None or not bonus_code_visible(code, user):
        raise NotFound("There is no such bonus code.")  # a members-only code does not reveal itself
    if not code.is_active:
        raise ClaimRefused("This code is no longer active.", code="code_inactive")
    if code.is_expired:
        raise ClaimRefused("This code has expired.", code="code_expired")
    try:
        with transaction.atomic():
            claim = BonusCodeClaim.objects.create(code=code, user=user)
            counted = (
                BonusCode.objects.filter(pk=code.pk, is_active=True)
                .filter(Q(claim_limit__isnull=True) | Q(claims_count__lt=F("claim_limit")))
                .update(claims_count=F("claims_count") + 1)
            )
            if counted != 1:
                raise ClaimRefused("All claims of this code are taken. Watch for the next one!", code="code_exhausted")
    except IntegrityError:
        raise Conflict("You have already claimed this code.", code="already_claimed") from None
    return claim


def bonus_codes_generate(
    *, prefix: str, count: int, amount: Decimal, claim_limit: int | None = 1, days_valid: int | None = 30,
    description: str = "", actor=None,
) -> list[BonusCode]:  # fmt: skip
    """Create `count` unique codes PREFIX-XXXXXXXX (audited)."""
    prefix = (prefix or "GV").strip().upper()[:12]
    if not 1 <= count <= 1000:
        raise ServiceError("Generate between 1 and 1,000 codes at a time.", fields={"count": ["1 to 1000"]})
    expires = timezone.now() + timedelta(days=days_valid) if days_valid else None
    with transaction.atomic():
        codes = []
        while len(codes) < count:
            text = f"{prefix}-{''.join(secrets.choice(_CODE_ALPHABET) for _ in range(8))}"
            code = BonusCode(
                code=text, amount=amount, claim_limit=claim_limit, expires_at=expires, description=description,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )  # fmt: skip
            code.full_clean(validate_unique=False)
            codes.append(code)
        BonusCode.objects.bulk_create(codes)
        audit_record(
            actor=actor,
            action="bonus_code.generate",
            after={"prefix": prefix, "count": count, "amount": amount, "claim_limit": claim_limit},
            source="admin",
        )
    return codes


# --- the wheel ------------------------------------------------------------------------------------------------


def wheel_server_seed(user_id: int, day: date) -> str:
    """The day's secret seed of a user: fixed in advance (derived from the server's secret), so the hash shown
    before a spin commits us to it; revealed with the spin."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"wheel:{user_id}:{day.isoformat()}".encode(), hashlib.sha256
    ).hexdigest()


def seed_hash(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode()).hexdigest()


def wheel_roll(server_seed: str, client_seed: str, nonce: int, total_weight: int) -> int:
    """HMAC-SHA256(server seed, "client_seed:nonce"), first 8 bytes as an integer, modulo the total weight. With
    64 bits against weights in the thousands the modulo bias is below 1e-14."""
    digest = hmac.new(server_seed.encode(), f"{client_seed}:{nonce}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


def wheel_pick(segments: list[WheelSegment], roll: int) -> WheelSegment:
    """Segments own consecutive ranges of [0, total weight) in position order."""
    edge = 0
    for segment in segments:
        edge += segment.weight
        if roll < edge:
            return segment
    raise ValueError("roll outside the wheel")


def wheel_segments() -> list[WheelSegment]:
    return list(WheelSegment.objects.filter(is_active=True).order_by("position"))


@dataclass
class WheelState:
    eligible: bool
    server_seed_hash: str
    nonce: int
    next_spin_at: str | None
    segments: list[WheelSegment]
    today_spin: WheelSpin | None


def wheel_state(user) -> WheelState:
    today = timezone.now().date()
    spin = WheelSpin.objects.filter(user=user, spin_date=today).select_related("segment", "reward_code").first()
    tomorrow = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    day = tomorrow.date() if spin else today
    return WheelState(
        eligible=spin is None,
        server_seed_hash=seed_hash(wheel_server_seed(user.pk, day)),
        nonce=WheelSpin.objects.filter(user=user).count(),
        next_spin_at=tomorrow.isoformat() if spin else None,
        segments=wheel_segments(),
        today_spin=spin,
    )


def wheel_spin(user, client_seed: str | None = None) -> WheelSpin:
    """One spin per user per UTC day (the unique constraint decides between concurrent spins)."""
    segments = wheel_segments()
    if not segments:
        raise ServiceError("The wheel is not set up yet.", code="wheel_empty")
    client_seed = (client_seed or "").strip()[:64] or secrets.token_hex(8)
    today = timezone.now().date()
    server_seed = wheel_server_seed(user.pk, today)
    try:
        with transaction.atomic():
            nonce = WheelSpin.objects.filter(user=user).count()
            roll = wheel_roll(server_seed, client_seed, nonce, sum(s.weight for s in segments))
            segment = wheel_pick(segments, roll)
            reward = None
            if segment.reward_amount > 0:
                reward = BonusCode.objects.create(
                    code=f"WHEEL-{secrets.token_hex(5).upper()}", amount=segment.reward_amount, claim_limit=1,
                    expires_at=timezone.now() + timedelta(days=WHEEL_REWARD_DAYS), owner=user,
                    source=BonusCode.Source.WHEEL, description=f"Wheel prize: {segment.label}",
                )  # fmt: skip
            return WheelSpin.objects.create(
                user=user, spin_date=today, segment=segment, server_seed=server_seed,
                server_seed_hash=seed_hash(server_seed), client_seed=client_seed, nonce=nonce, roll=roll,
                reward_code=reward,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(
            "You have already spun the wheel today (UTC). Come back tomorrow!", code="already_spun"
        ) from None


def wheel_verify(server_seed: str, client_seed: str, nonce: int) -> dict:
    """Recompute a spin from its revealed values (for the public verify page)."""
    segments = wheel_segments()
    total = sum(s.weight for s in segments)
    if not total:
        raise ServiceError("The wheel is not set up yet.")
    roll = wheel_roll(server_seed, client_seed, nonce, total)
    return {"server_seed_hash": seed_hash(server_seed), "roll": roll, "total_weight": total,
            "segment": wheel_pick(segments, roll)}  # fmt: skip


def vip_progress(user) -> dict:
    tiers = list(VipTier.objects.order_by("min_wager"))
    player = getattr(user, "player", None) if user and user.is_authenticated else None
    if player is None:
        return {"tiers": tiers, "player": None}
    reached = [t for t in tiers if t.min_wager <= player.wager_all_time]
    ahead = [t for t in tiers if t.min_wager > player.wager_all_time]
    current, following = (reached[-1] if reached else None), (ahead[0] if ahead else None)
    pct = 100
    if following:
        floor = current.min_wager if current else Decimal("0")
        pct = int((player.wager_all_time - floor) / (following.min_wager - floor) * 100)
    return {"tiers": tiers, "player": player, "current": current, "next": following, "pct": max(0, min(pct, 100)),
            "to_next": (following.min_wager - player.wager_all_time) if following else Decimal("0")}  # fmt: skip
