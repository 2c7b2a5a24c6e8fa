"""Site users, the Goated player each one owns (verification requests), Telegram linking."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

hex_colour = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Enter a colour as #RRGGBB, for example #D7FF00.")


class User(AbstractUser):
    class VerificationStatus(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    email = models.EmailField("email address")
    display_name = models.CharField(max_length=50, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    profile_color = models.CharField(max_length=7, default="#D7FF00", validators=[hex_colour])
    show_stats = models.BooleanField(
        default=True,
        help_text="Your bio, colour and site name on your public player page, and your figures when someone asks "
        "the Telegram bot (/check_stats). Leaderboard wagers come from Goated and are public; how your Goated name "
        "shows beside them (full, masked or hidden) is your choice in the privacy section.",
    )
    telegram_id = models.BigIntegerField(null=True, blank=True, unique=True)
    telegram_username = models.CharField(max_length=32, blank=True)
    # One Goated player per site user and one site user per player.
    player = models.OneToOneField(
        "races.Player", null=True, blank=True, on_delete=models.SET_NULL, related_name="site_user"
    )
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED
    )
    email_verified = models.BooleanField(default=False)
    last_active = models.DateTimeField(null=True, blank=True)
    # Self-excluded until then (accounts.selfexclusion: a far-future date for a permanent one); rewards, entries and
    # promotional or race messages are refused while it is in the future (vip.selectors.reward_refusal).
    self_excluded_until = models.DateTimeField(null=True, blank=True, editable=False)
    # 18+ and the terms (accounts.terms): when the person confirmed being an adult, and which version of the terms
    # they accepted when. A version other than accounts.terms.TERMS_VERSION asks again at the next sign-in.
    adult_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    terms_version = models.CharField(max_length=20, blank=True, editable=False)
    terms_accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Part of every session's hash: raising it ends all sessions of the account ("sign out everywhere").
    sessions_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="An account with this email address already exists.",
            ),
            models.CheckConstraint(
                condition=Q(verification_status__in=["unverified", "pending", "verified", "rejected"]),
                name="user_verification_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def _get_session_auth_hash(self, secret=None):
        # Django's hash of the password, salted with the sessions epoch (Django ≥ 4.1 routes
        # get_session_auth_hash and SECRET_KEY_FALLBACKS checks through this method).
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.sessions_epoch}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @property
    def player_verified(self) -> bool:
        """Staff approved the claim to a Goated player. (Not `is_verified`: django-otp uses that name on the user
        for "passed the second factor in this session".)"""
        return self.verification_status == self.VerificationStatus.VERIFIED


class VerificationRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        # An approval staff undid (`user_player_unlink`): the player is free again, the claim stays on record.
        REVOKED = "revoked", "Unlinked"

    class Source(models.TextChoices):
        TELEGRAM = "telegram", "Telegram bot"
        SITE = "site", "Website"

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="verification_requests"
    )
    telegram_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    telegram_username = models.CharField(max_length=32, blank=True)
    goated_name = models.CharField(max_length=64, help_text="The Goated player name the user claims to own.")
    player = models.ForeignKey(
        "races.Player", null=True, blank=True, on_delete=models.SET_NULL, related_name="verification_requests"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.TELEGRAM)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    admin_notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "revoked"]),
                name="verification_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(telegram_id__isnull=False), name="verification_has_requester"
            ),
            # One pending request at a time per site user and per Telegram account.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="verification_one_pending_per_user",
                violation_error_message="You already have a verification request waiting for review.",
            ),
            models.UniqueConstraint(
                fields=["telegram_id"],
                condition=Q(status="pending"),
                name="verification_one_pending_per_telegram",
                violation_error_message="You already have a verification request waiting for review.",
            ),
            # One holder per Goated player: every approval names its holder (a site account, or a Telegram
            # account without one), and a player has at most one approval in force. `User.player` (one-to-one)
            # mirrors the approval of a site account; accounts.selectors.player_holder reads both.
            models.UniqueConstraint(
                fields=["player"],
                condition=Q(status="approved", player__isnull=False),
                name="verification_one_holder_per_player",
                violation_error_message="This Goated player is already held by another account.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goated_name} ({self.get_status_display()})"


class TelegramLinkToken(models.Model):
    """A one-time code behind `t.me/<bot>?start=<token>` that ties a Telegram account to a site user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="telegram_link_tokens")
    nonce = models.CharField(max_length=16, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Telegram link code for {self.user} ({'used' if self.used_at else 'unused'})"


class SelfExclusion(models.Model):
    """One self-exclusion a player chose (accounts.selfexclusion). It cannot be shortened or lifted early; only a
    superuser can lift one, with a reason (audited)."""

    class Period(models.TextChoices):
        DAY = "1d", "1 day"
        WEEK = "7d", "7 days"
        MONTH = "30d", "30 days"
        HALF_YEAR = "180d", "180 days"
        PERMANENT = "permanent", "Permanent"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="self_exclusions")
    period = models.CharField(max_length=16, choices=Period.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: permanent.")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lift_reason = models.CharField(max_length=500, blank=True)
    end_announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.user} self-excluded {self.get_period_display().lower()} from {self.starts_at:%Y-%m-%d}"
