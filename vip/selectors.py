"""Reads on rewards, and the rules every other app asks: the tier of a wager, and which codes a user may see."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.errors import ServiceError
from core.memo import LocalMemo
from core.money import money_text
from vip.fairness import seed_hash, table_from_json, table_of, wheel_pick, wheel_roll
from vip.models import BonusCode, BonusCodeClaim, VipTier, WagerPeriod, WheelSegment, WheelSpin

# --- the VIP ladder -------------------------------------------------------------------------------------------


@dataclass
class VipProgress:
    current: VipTier | None  # the highest tier reached
    next: VipTier | None  # the one after it (None at the top)
    pct: int  # progress from `current` to `next`, 0-100
    to_next: Decimal  # all-time wager still needed for `next`


TIERS_CACHE_KEY = "vip:tiers:v1"
TIERS_CACHE_SECONDS = 3600
# An edit in admin shows in this process at once (tiers_cache_clear), in the others within a second.
TIERS_LOCAL_SECONDS = 1.0
_tiers_local = LocalMemo(TIERS_LOCAL_SECONDS)


def _tiers_shared() -> list[VipTier]:
    rows = cache.get(TIERS_CACHE_KEY)
    if rows is None:
        rows = list(VipTier.objects.order_by("min_wager").values())
        cache.set(TIERS_CACHE_KEY, rows, TIERS_CACHE_SECONDS)
    return [VipTier(**row) for row in rows]


def _tiers() -> list[VipTier]:
    """The ladder from the shared cache (one read instead of one query: a leaderboard, race or profile page asks
    for it), filled from the table when cold, and kept in this process for a second (core.memo). A tier saved or
    deleted clears both (vip.apps, `tiers_cache_clear`)."""
    return _tiers_local.get("tiers", _tiers_shared)


def tiers_cache_clear(**_signal) -> None:
    """Forget the cached ladder now and again when the writing transaction commits (a page reading between the
    two would otherwise cache the old ladder again)."""

    def forget() -> None:
        _tiers_local.forget()
        cache.delete(TIERS_CACHE_KEY)

    forget()
    transaction.on_commit(forget)


# --- the tier rule --------------------------------------------------------------------------------------------
# A player has reached a tier when their all-time wager is at least the tier's minimum (DESIGN §5). Written once
# here in Python and in its two SQL forms, side by side; tests/vip/test_tier_rule.py checks that all three agree
# on every tier boundary.


def tier_reached(player, tier: VipTier) -> bool:
    """Whether `player` (a races.Player, or None) has reached `tier`."""
    return player is not None and player.wager_all_time >= tier.min_wager


def players_reaching_q(tier: VipTier, field: str = "wager_all_time") -> Q:
    """The same rule as a filter of players (or of rows related to one: `field="player__wager_all_time"`)."""
    return Q(**{f"{field}__gte": tier.min_wager})


def tiers_reached_q(player, field: str = "min_tier__min_wager") -> Q:
    """The same rule as a filter of rows that name a tier (`field` is the tier's min_wager): those `player` has
    reached. No player reaches none."""
    if player is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__lte": player.wager_all_time})


def tier_reached_sql(wager_column: str, min_wager_sql: str) -> str:
    """The same rule in raw SQL, for statements the ORM cannot write (races' standings)."""
    return f"{wager_column} >= {min_wager_sql}"


class TierTable:
    """The operator-edited ladder, read once: the tier of any all-time wager (docs/design.md §5) by bisection.

    The one owner of "which tier is this wager": leaderboards, profiles, the VIP page, bonus codes and the bot
    all ask a TierTable, so a change to the ladder shows everywhere at once.
    """

    def __init__(self, tiers: list[VipTier] | None = None) -> None:
        self.tiers = _tiers() if tiers is None else tiers
        self._bounds = [t.min_wager for t in self.tiers]

    def tier_for(self, all_time: Decimal) -> VipTier | None:
        i = bisect_right(self._bounds, all_time)
        return self.tiers[i - 1] if i else None

    def name_for(self, all_time: Decimal) -> str | None:
        tier = self.tier_for(all_time)
        return tier.name if tier else None

    def progress(self, all_time: Decimal) -> VipProgress:
        i = bisect_right(self._bounds, all_time)
        current = self.tiers[i - 1] if i else None
        following = self.tiers[i] if i < len(self.tiers) else None
        if following is None:
            return VipProgress(current, None, 100, Decimal("0"))
        floor = current.min_wager if current else Decimal("0")
        span = following.min_wager - floor
        pct = int((all_time - floor) / span * 100) if span > 0 else 0
        return VipProgress(current, following, max(0, min(pct, 100)), following.min_wager - all_time)

    def colors(self) -> dict[str, str]:
        return {t.name: t.badge_color for t in self.tiers}


def vip_ladder(user) -> dict:
    """The VIP page: every tier, and the signed-in player's place on the ladder when they have a linked player."""
    table = TierTable()
    player = getattr(user, "player", None) if user is not None and user.is_authenticated else None
    if player is None:
        return {"tiers": table.tiers, "player": None}
    progress = table.progress(player.wager_all_time)
    return {"tiers": table.tiers, "player": player, **progress.__dict__}


# --- bonus codes ----------------------------------------------------------------------------------------------


def bonus_code_visible(code: BonusCode, user) -> bool:
    """Whether `user` may see, and so claim, the code: its owner for a personal code, else its audience and
    minimum tier. The one rule the site, the API and the bot all apply."""
    if code.owner_id is not None:
        return user is not None and code.owner_id == user.pk
    if code.audience == BonusCode.Audience.VERIFIED and not (user is not None and user.player_verified):
        return False
    if code.min_tier_id is not None:
        player = getattr(user, "player", None) if user is not None else None
        if not tier_reached(player, code.min_tier):
            return False
    return True


def _visible_q(user) -> Q:
    """bonus_code_visible as a filter, so that a limit counts only codes the user may see (a big batch of codes
    for a higher tier must not push the public ones out of the list)."""
    player = getattr(user, "player", None) if user is not None else None
    visible = Q(min_tier__isnull=True) | tiers_reached_q(player)
    if user is None:
        return visible & Q(owner__isnull=True, audience=BonusCode.Audience.EVERYONE)
    if not user.player_verified:
        visible &= ~Q(audience=BonusCode.Audience.VERIFIED)
    return Q(owner=user) | (Q(owner__isnull=True) & visible)


def bonus_codes_for(user, limit: int = 100) -> list[BonusCode]:
    """Active, unexpired codes `user` may see (public, their tier's, their personal ones), newest first, without
    the other codes of a batch they already claimed from. An anonymous user (None) sees only the public codes for
    everyone."""
    now = timezone.now()
    codes = (
        BonusCode.objects.filter(is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("min_tier")
        .order_by("-created_at")
    )
    codes = codes.filter(_visible_q(user))
    if user is not None:
        # A batch is one giveaway: once the user claimed one of its codes, its other codes are not offered.
        other_of_batch = BonusCodeClaim.objects.filter(batch=OuterRef("batch"), user=user).exclude(code=OuterRef("pk"))
        codes = codes.annotate(
            claimed=Exists(BonusCodeClaim.objects.filter(code=OuterRef("pk"), user=user)),
            batch_taken=Exists(other_of_batch),
        ).filter(batch_taken=False)
    # The filter above is bonus_code_visible in SQL; asking the rule itself too costs nothing and keeps a
    # divergence of the two on the safe side.
    return [c for c in codes[:limit] if bonus_code_visible(c, user)]


# --- the wheel ------------------------------------------------------------------------------------------------


def wheel_segments() -> list[WheelSegment]:
    return list(WheelSegment.objects.filter(is_active=True).order_by("position"))


def wheel_history(user, limit: int = 30) -> list[WheelSpin]:
    return list(WheelSpin.objects.filter(user=user).select_related("segment", "reward_code")[:limit])


@dataclass(frozen=True)
class WheelPrize:
    """One row of the prize list: the segments that pay the same prize, with their exact chance together
    (weight ÷ total weight of the active segments, the draw's own arithmetic)."""

    label: str
    reward_amount: Decimal
    weight: int
    total_weight: int
    positions: tuple[int, ...]  # the segments (their positions) a spin lands on for this row
    color: str

    @property
    def is_prize(self) -> bool:
        return self.reward_amount > 0

    @property
    def percent_text(self) -> str:
        """`0.0017` (two significant digits below 1 %), `99.54`, `25` — never rounded to a misleading 0."""
        pct = self.weight * 100 / self.total_weight
        if pct >= 1:
            return f"{pct:.2f}".removesuffix(".00")
        # The decimals that keep two significant digits once rounded (0.0995 reads 0.10, not 0.100).
        decimals = max(2, 1 - math.floor(math.log10(float(f"{pct:.2g}"))))
        return f"{pct:.{decimals}f}"

    @property
    def one_in_text(self) -> str:
        """`1 in 60,275`; empty for a row that comes up more often than one spin in two."""
        n = self.total_weight / self.weight
        if n < 2:
            return ""
        return f"1 in {round(n):,}" if n >= 10 else f"1 in {n:.1f}".removesuffix(".0")


NO_PRIZE_LABEL = "No prize"


def wheel_prizes(segments: list[WheelSegment]) -> list[WheelPrize]:
    """The segments as a prize list, biggest prize first: segments with the same label and prize are one row, every
    segment without a prize is the one "No prize" row, last. The chances add up to the whole draw."""
    total = sum(s.weight for s in segments)
    groups: dict[tuple[str, Decimal], list[WheelSegment]] = {}
    for s in segments:
        key = (s.label, s.reward_amount) if s.reward_amount > 0 else (NO_PRIZE_LABEL, Decimal("0"))
        groups.setdefault(key, []).append(s)
    rows = [
        WheelPrize(label, amount, sum(s.weight for s in group), total, tuple(s.position for s in group), group[0].color)
        for (label, amount), group in groups.items()
    ]
    return sorted(rows, key=lambda row: (not row.is_prize, -row.reward_amount, -row.weight, row.positions))


@dataclass(frozen=True)
class Refusal:
    """Why a reward is refused: `code` for programs (the API's error code), `message` says what to do next."""

    code: str
    message: str


def self_exclusion_refusal(user, now=None) -> Refusal | None:
    """A self-excluded player (accounts.selfexclusion) is refused every reward and entry, before any other rule."""
    until = getattr(user, "self_excluded_until", None)
    if until is not None and until > (now or timezone.now()):
        when = "for good" if until.year >= 9999 else f"until {until:%d %b %Y %H:%M} UTC"
        return Refusal("self_excluded", f"You chose to step away {when}: rewards and entries are closed until then.")
    return None


def reward_refusal(user) -> Refusal | None:
    """Rewards are for real players: not self-excluded, a confirmed email and a verified linked Goated player
    (None: eligible)."""
    refusal = self_exclusion_refusal(user)
    if refusal is not None:
        return refusal
    if not user.email_verified:
        return Refusal(
            "email_unconfirmed",
            "Confirm your email address first: open the link we sent you, or ask for a new one in your account "
            "settings.",
        )
    if user.player_id is None or not user.player_verified:
        if user.verification_status == "pending":
            return Refusal(
                "not_verified", "Your claim to a Goated account is waiting for staff review; rewards open once "
                "it is approved.",
            )  # fmt: skip
        return Refusal(
            "not_verified", "Rewards are for verified players: link your Goated account in your account settings.",
        )  # fmt: skip
    return None


def wager_shortfall(code: BonusCode, player) -> str | None:
    """Why `player` has not wagered enough for `code` (the period the code names), or None if they have."""
    if code.required_wager <= 0:
        return None
    have = player.wager_for(code.required_wager_period)
    if have >= code.required_wager:
        return None
    period = WagerPeriod(code.required_wager_period).label.lower()
    return (
        f"This code needs {money_text(code.required_wager)} wagered ({period}); you have {money_text(have)}. "
        "Keep playing under our code and claim it once you are there."
    )


@dataclass
class WheelState:
    eligible: bool
    refusal: Refusal | None  # why the user may not spin, when that is the reason (not today's spin)
    server_seed_hash: str
    nonce: int
    next_spin_at: str | None
    segments: list[WheelSegment]
    today_spin: WheelSpin | None


def wheel_verify(server_seed: str, client_seed: str, nonce: int) -> dict:
    """Recompute a spin from its revealed values (the public verify page). A spin that happened is recomputed
    with the segment table it stored; other values (trying the maths) with today's table."""
    hashed = seed_hash(server_seed)
    spin = WheelSpin.objects.filter(server_seed_hash=hashed, client_seed=client_seed, nonce=nonce).first()
    if spin is not None and spin.segment_table:
        table, stored = table_from_json(spin.segment_table), True
    else:
        table, stored = table_of(wheel_segments()), False
    total = sum(s.weight for s in table)
    if not total:
        raise ServiceError("The wheel is not set up yet.")
    roll = wheel_roll(server_seed, client_seed, nonce, total)
    rows, low = [], 0
    for s in table:
        rows.append((s, low, low + s.weight - 1))  # the rolls that land on this slice
        low += s.weight
    return {
        "server_seed_hash": hashed, "roll": roll, "total_weight": total, "segment": wheel_pick(table, roll),
        "rows": rows, "spin": spin, "stored_table": stored,
    }  # fmt: skip
