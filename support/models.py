"""Support tickets and their message threads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tickets")
    subject = models.CharField(max_length=150)
    description = models.TextField(max_length=5000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="ticket_status_updated"),
            models.Index(fields=["user", "-updated_at"], name="ticket_user_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress", "closed"]), name="ticket_status_valid"
            ),
            models.CheckConstraint(condition=Q(priority__in=["low", "medium", "high"]), name="ticket_priority_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    STAFF_ROLE = "Support team"

    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_messages")
    body = models.TextField(max_length=5000)
    # Set by the server from the author's role, never from client input.
    is_staff_reply = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_thread")]

    def __str__(self) -> str:
        return f"Message on {self.ticket_id} by {self.author}"

    @property
    def signature(self) -> str:
        """How a message is signed in the thread (page, live update, API): the author's name, then the role for
        staff replies. Written here only, so the page and its script cannot drift apart."""
        name = self.author.public_name if self.author_id else ""
        return f"{name} · {self.STAFF_ROLE}" if self.is_staff_reply else name


class CannedReply(models.Model):
    """A ready answer staff insert in the reply box of a ticket (and edit before sending); operators keep the set."""

    title = models.CharField(max_length=80, unique=True, help_text="What the agent picks it by.")
    body = models.TextField(max_length=5000, help_text="The text put in the reply box.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title
