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


def ticket_payload(ticket) -> dict:
    """The ticket's state as a thread's page shows it in its header (the label too: the page keeps no copy of
    the status names)."""
    return {"id": ticket.pk, "status": ticket.status, "status_label": ticket.get_status_display()}


def ticket_message_announce(message, ticket) -> bool:
    """A new message and the ticket's state after it (a staff reply may have moved it to "in progress")."""
    return realtime.send(
        ticket_group(message.ticket_id),
        "ticket.message",
        message=message_payload(message),
        ticket=ticket_payload(ticket),
    )


def ticket_status_announce(ticket) -> bool:
    """Staff closed, reopened or otherwise moved the ticket: open thread pages show it (and a closed one stops
    offering the reply box)."""
    return realtime.send(ticket_group(ticket.pk), "ticket.updated", ticket=ticket_payload(ticket))
