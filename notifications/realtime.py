"""Per-user realtime notifications (`/ws/notifications/`), sent after commit."""

from __future__ import annotations

from core import realtime


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def notification_payload(n) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "url": n.url,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }


def notification_announce(notification) -> bool:
    return realtime.send(
        user_group(notification.user_id), "notification", notification=notification_payload(notification)
    )


def unread_announce(user_id: int, unread: int) -> bool:
    """Notifications were read (in another tab, or by the API): every open page shows the new count."""
    return realtime.send(user_group(user_id), "notifications.read", unread=unread)
