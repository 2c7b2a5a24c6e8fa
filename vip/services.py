"""Writes on rewards: bonus code claims and generation, the provably fair daily wheel."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import Conflict, NotFound, ServiceError
from core.models import AuditEntry
from core.money import money_text
from notifications.services import notify
from vip.fairness import seed_hash, wheel_pick, wheel_roll, wheel_server_seed
from vip.models import BonusCode, BonusCodeClaim, WheelSpin
from vip.selectors import bonus_code_visible, wheel_segments

WHEEL_REWARD_DAYS = 7
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed by hand


class ClaimRefused(ServiceError):
    code = "claim_refused"


# --- bonus codes ----------------------------------------------------------------------------------------------


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
    description: str = "", actor=None, source: str = AuditEntry.Source.SERVICE,
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
            source=source,
        )
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
            spin = WheelSpin.objects.create(
                user=user, spin_date=today, segment=segment, server_seed=server_seed,
                server_seed_hash=seed_hash(server_seed), client_seed=client_seed, nonce=nonce, roll=roll,
                reward_code=reward,
            )  # fmt: skip
            if reward is not None:
                notify(
                    user, "reward.won", title=f"You won {money_text(reward.amount)} on the wheel",
                    body=f"Your bonus code {reward.code} is valid for {WHEEL_REWARD_DAYS} days.", url="/bonus-codes/",
                    dedupe_key=f"wheel:{spin.pk}",
                )  # fmt: skip
            return spin
    except IntegrityError:
        raise Conflict(
            "You have already spun the wheel today (UTC). Come back tomorrow!", code="already_spun"
        ) from None
