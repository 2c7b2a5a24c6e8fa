"""Site users, their notification preferences, in-site notifications and the newsletter list."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

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
    show_stats = models.BooleanField(default=True, help_text="Show wagers and bio on the public player profile.")
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

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.VerificationStatus.VERIFIED


class NotificationPreferences(models.Model):
    """The seed's six toggles, now tied to their user (the seed forgot the link)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preferences")
    wager_race_updates = models.BooleanField(default=True)
    vip_status_changes = models.BooleanField(default=True)
    promotional_offers = models.BooleanField(default=True)
    monthly_statements = models.BooleanField(default=True)
    email_notifications = models.BooleanField(default=True)
    push_notifications = models.BooleanField(default=True, help_text="Telegram and in-site push messages.")
    updated_at = models.DateTimeField(auto_now=True)

    TOGGLES = (
        "wager_race_updates",
        "vip_status_changes",
        "promotional_offers",
        "monthly_statements",
        "email_notifications",
        "push_notifications",
    )

    class Meta:
        verbose_name = "notification preferences"
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Notification(models.Model):
    """An in-site notification (race won, ticket reply, verification decided...)."""

    class Kind(models.TextChoices):
        RACE = "race", "Race"
        SUPPORT = "support", "Support"
        VERIFICATION = "verification", "Verification"
        REWARD = "reward", "Reward"
        SYSTEM = "system", "System"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SYSTEM)
    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    # Makes "notify once" idempotent: e.g. "race-won:42" for a given user.
    dedupe_key = models.CharField(max_length=100, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.user}"


class NewsletterSubscription(models.Model):
    email = models.EmailField(unique=True)
    is_subscribed = models.BooleanField(default=True)
    subscribed_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-subscribed_at"]

    def __str__(self) -> str:
        return self.email
