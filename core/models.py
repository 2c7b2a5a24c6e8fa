"""The audit log: who did what to which object, from admin, bot, API, task or shell alike."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Who did what to which object, when, with the values before and after. Written, never edited."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        SERVICE = "service", "Service"
        BOT = "bot", "Telegram bot"
        API = "api", "API"
        SYSTEM = "system", "System"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    # The actor's username at the time (kept if the account is later deleted or renamed).
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. race.finalize, verification.approve")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SERVICE)
    target_type = models.CharField(max_length=100, blank=True, db_index=True, help_text="app_label.model")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.action} {self.target_repr}"
