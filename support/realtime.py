"""Live support threads (`/ws/support/<ticket_id>/`), sent after commit."""

from __future__ import annotations

from core import realtime


def ticket_group(ticket_id: int) -> str:
    return f"support.{ticket_id}"


def message_payload(m) -> dict:
    return {
        "id": m.pk,
        "ticket_id": m.ticket_id,
        "author": m.author.public_name if m.author_id else "",
        "signature": m.signature,
        "is_staff_reply": m.is_staff_reply,
        "body": m.body,
        "created_at": m.created_at.isoformat(),
    }


def ticket_message_announce(message) -> bool:
    return realtime.send(ticket_group(message.ticket_id), "ticket.message", message=message_payload(message))
