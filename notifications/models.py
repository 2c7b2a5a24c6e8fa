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


class Broadcast(models.Model):
    """A message sent to many players (today on Telegram, by a staff `/broadcast`). Its recipients are listed
    up front as deliveries, so a broadcast interrupted halfway resumes where it stopped and never sends twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    text = models.TextField(max_length=4000)
    channel = models.CharField(max_length=16, default="telegram")
    # What started it (e.g. "tg:<chat>:<message id>"): the same command delivered twice is one broadcast.
    key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_chat = models.BigIntegerField(null=True, blank=True, help_text="Told the outcome when it is done.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Broadcast #{self.pk}: {self.text[:40]}"


class BroadcastDelivery(models.Model):
    """One recipient of a broadcast. Claimed (pending → sending) before the message leaves, so at most one send."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        BLOCKED = "blocked", "Blocked the bot"
        FAILED = "failed", "Failed"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    chat_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "chat_id"], name="broadcast_one_delivery_per_chat"),
        ]
        indexes = [models.Index(fields=["broadcast", "status"], name="broadcast_delivery_status")]

    def __str__(self) -> str:
        return f"{self.chat_id} ({self.status})"
