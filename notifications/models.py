"""What reaches a player and how: preferences, in-site notifications, and who can be reached on Telegram."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationPreferences(models.Model):
    """The seed's six toggles, now tied to their user (the seed forgot the link)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    wager_race_updates = models.BooleanField(default=True)
    vip_status_changes = models.BooleanField(default=True)
    promotional_offers = models.BooleanField(default=True)
    monthly_statements = models.BooleanField(default=True)
    email_notifications = models.BooleanField(default=True)
    push_notifications = models.BooleanField(
        default=True, help_text="Send notifications to my Telegram (the site always lists them)."
    )
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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
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


class BotUser(models.Model):
    """Everyone who talked to the bot: where to reach them, and whether they blocked us."""

    telegram_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=64, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True, help_text="Set when Telegram says the user blocked us.")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)
