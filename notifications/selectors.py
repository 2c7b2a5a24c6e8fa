"""Reads on notifications: a user's own list and unread count."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first (nobody ever sees another's)."""
    notes = Notification.objects.filter(user=user)
    if unread_only:
        notes = notes.filter(read_at__isnull=True)
    return notes.order_by("-created_at", "-pk")


def notifications_unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
