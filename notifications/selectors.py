"""Reads on notifications: a user's own list and unread count."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from notifications.models import Notification

UNREAD_CACHE_KEY = "notifications:unread:{user_id}"
UNREAD_CACHE_SECONDS = 300


def notifications_for(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's own notifications, newest first (nobody ever sees another's)."""
    notes = Notification.objects.filter(user=user)
    if unread_only:
        notes = notes.filter(read_at__isnull=True)
    return notes.order_by("-created_at", "-pk")


def notifications_unread_count(user) -> int:
    """The bell's number on every signed-in page: from the cache (one read instead of a count query), counted when
    cold. Any notification saved or deleted, and marking read, forget it (`unread_count_forget`)."""
    key = UNREAD_CACHE_KEY.format(user_id=user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(user=user, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def unread_count_forget(user_id: int) -> None:
    """Forget a user's cached unread count now and again at commit (a page counting inside the writing
    transaction, or between the write and the commit, would otherwise keep the old number)."""
    key = UNREAD_CACHE_KEY.format(user_id=user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _notification_changed(instance: Notification, **_signal) -> None:
    unread_count_forget(instance.user_id)
