"""`/ws/notifications/`: the signed-in user's notifications (4401 for anyone else)."""

from __future__ import annotations

from channels.db import database_sync_to_async

from core.consumers import UNAUTHORIZED, StreamConsumer
from notifications.models import Notification
from notifications.realtime import notification_payload, user_group

SNAPSHOT_UNREAD = 20


class NotificationConsumer(StreamConsumer):
    relayed = frozenset({"notification", "notifications.read"})

    async def authorize(self) -> int | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return UNAUTHORIZED
        self.user_id = user.pk
        self.group = user_group(user.pk)
        return None

    async def snapshot(self) -> dict:
        return await database_sync_to_async(_unread)(self.user_id)


def _unread(user_id: int) -> dict:
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    return {
        "unread_count": unread.count(),
        "notifications": [notification_payload(n) for n in unread.order_by("-created_at")[:SNAPSHOT_UNREAD]],
    }
