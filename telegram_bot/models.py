"""Claims by users to own a Goated player, reviewed by staff (from the bot or admin)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class VerificationRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        TELEGRAM = "telegram", "Telegram bot"
        SITE = "site", "Website"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="verification_requests"
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
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]), name="verification_status_valid"
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
        ]

    def __str__(self) -> str:
        return f"{self.goated_name} ({self.get_status_display()})"


class TelegramLinkToken(models.Model):
    """A one-time code behind `t.me/<bot>?start=<token>` that ties a Telegram account to a site user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_link_tokens")
    nonce = models.CharField(max_length=16, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Telegram link code for {self.user} ({'used' if self.used_at else 'unused'})"


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
