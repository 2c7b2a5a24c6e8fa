"""VIP tiers, bonus codes and their claims, and the daily wheel."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.colours import readable_on

MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
code_format = RegexValidator(r"^[A-Z0-9][A-Z0-9_-]{2,31}$", "Codes are 3–32 characters: A–Z, 0–9, - and _.")


class VipTier(models.Model):
    """One rung of the VIP ladder, reached by all-time wager. Operators edit the table in admin."""

    name = models.CharField(max_length=32, unique=True)
    slug = models.SlugField(max_length=32, unique=True)
    min_wager = models.DecimalField(max_digits=20, decimal_places=2, unique=True, validators=NON_NEGATIVE)
    color = models.CharField(max_length=7, default="#B87333")
    perks = models.JSONField(default=list, blank=True, help_text="A list of short perk descriptions.")

    class Meta:
        ordering = ["min_wager"]
        verbose_name = "VIP tier"
        verbose_name_plural = "VIP tiers"  # not Django's "Vip tiers"
        constraints = [models.CheckConstraint(condition=Q(min_wager__gte=0), name="tier_min_wager_non_negative")]

    def __str__(self) -> str:
        return self.name

    @property
    def badge_color(self) -> str:
        """The colour as the site shows the tier's name: lightened where needed to read on the dark background."""
        return readable_on(self.color)


class WagerPeriod(models.TextChoices):
    """Which of a player's wager counters a requirement reads (the leaderboard periods)."""

    TODAY = "today", "Today"
    WEEKLY = "weekly", "This week"
    MONTHLY = "monthly", "This month"
    ALL_TIME = "all_time", "All time"


class BonusCode(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        TELEGRAM = "telegram", "Telegram"
        WHEEL = "wheel", "Wheel spin"

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone signed in"
        VERIFIED = "verified", "Verified players"

    code = models.CharField(max_length=32, unique=True, validators=[code_format])
    description = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(**MONEY, validators=NON_NEGATIVE, help_text="Bonus value in USD.")
    required_wager = models.DecimalField(**MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    required_wager_period = models.CharField(
        max_length=16,
        choices=WagerPeriod.choices,
        default=WagerPeriod.ALL_TIME,
        help_text="Which of the player's wager counters must reach the required wager.",
    )
    # Null means unlimited. The check constraint below makes the limit hold under any concurrency.
    claim_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Empty: unlimited."
    )
    claims_count = models.PositiveIntegerField(default=0, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    min_tier = models.ForeignKey(VipTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Set for personal codes (wheel rewards): only this user may see and claim it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="personal_codes"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ADMIN)
    # Codes generated together share a batch: an account claims at most one code of a batch.
    batch = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["is_active", "expires_at"], name="bonus_code_active")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="bonus_amount_non_negative"),
            models.CheckConstraint(condition=Q(required_wager__gte=0), name="bonus_required_wager_non_negative"),
            models.CheckConstraint(
                condition=Q(claim_limit__isnull=True) | Q(claims_count__lte=F("claim_limit")),
                name="bonus_claims_within_limit",
                violation_error_message="This code has reached its claim limit.",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        # Only for new codes: an old code that expired can still be edited (e.g. its description).
        if self._state.adding and self.expires_at is not None and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": "A new code must expire in the future (or leave it empty)."})

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def remaining(self) -> int | None:
        return None if self.claim_limit is None else max(self.claim_limit - self.claims_count, 0)


class BonusCodeClaim(models.Model):
    # PROTECT: a claimed code is part of the money trail; deactivate it instead of deleting it.
    code = models.ForeignKey(BonusCode, on_delete=models.PROTECT, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bonus_claims")
    # A copy of the code's batch (set by `bonus_code_claim`), so a unique constraint can decide between two
    # concurrent claims of different codes of one batch.
    batch = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "user"],
                name="bonus_claim_once_per_user",
                violation_error_message="You have already claimed this code.",
            ),
            models.UniqueConstraint(
                fields=["batch", "user"],
                condition=Q(batch__isnull=False),
                name="bonus_claim_once_per_user_per_batch",
                violation_error_message="You already claimed a code from this batch.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} claimed {self.code}"


class WheelSegment(models.Model):
    """A slice of the wheel. Outcome probability = weight / total weight of the active segments."""

    position = models.PositiveSmallIntegerField(unique=True, help_text="Order on the wheel, clockwise from the top.")
    label = models.CharField(max_length=40)
    weight = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    reward_amount = models.DecimalField(**MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    color = models.CharField(max_length=7, default="#1F2937")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="wheel_weight_positive"),
            models.CheckConstraint(condition=Q(reward_amount__gte=0), name="wheel_reward_non_negative"),
        ]

    def __str__(self) -> str:
        return self.label


class WheelSeed(models.Model):
    """A user's server seed for one UTC day: drawn at random (`secrets`) and stored before any spin uses it, so
    the hash shown in advance commits the server to it; revealed by the spin. Nothing about it can be derived."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wheel_seeds")
    day = models.DateField(help_text="UTC calendar day the seed is for.")
    server_seed = models.CharField(max_length=64)
    server_seed_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="wheel_one_seed_per_user_per_day")]

    def __str__(self) -> str:
        return f"Seed of {self.user} for {self.day}"


class WheelSpin(models.Model):
    """One spin; at most one per user and one per Goated player per UTC day (database constraints)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wheel_spins")
    # The player the spinning account was linked to: two accounts that held one player share its daily spin.
    player = models.ForeignKey(
        "races.Player", null=True, blank=True, on_delete=models.PROTECT, related_name="wheel_spins"
    )
    spin_date = models.DateField(help_text="UTC calendar day of the spin.")
    segment = models.ForeignKey(WheelSegment, on_delete=models.PROTECT, related_name="spins")
    server_seed = models.CharField(max_length=64)
    server_seed_hash = models.CharField(max_length=64)
    client_seed = models.CharField(max_length=64)
    nonce = models.PositiveIntegerField(default=0)
    roll = models.PositiveBigIntegerField(help_text="The number drawn in [0, total weight).")
    # The segment table the roll was drawn from ([[position, label, weight, reward], ...]): a spin verifies
    # against what it used, whatever operators change later.
    segment_table = models.JSONField(default=list, blank=True)
    reward_code = models.OneToOneField(
        BonusCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="wheel_spin"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "spin_date"],
                name="wheel_one_spin_per_user_per_day",
                violation_error_message="You have already spun the wheel today (UTC).",
            ),
            models.UniqueConstraint(
                fields=["player", "spin_date"],
                name="wheel_one_spin_per_player_per_day",
                violation_error_message="This Goated player has already spun the wheel today (UTC).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.spin_date}: {self.segment}"
