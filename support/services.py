"""Writes on support tickets."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from goatedvips.errors import ServiceError
from support.models import SupportTicket, TicketMessage
from support.selectors import is_support_staff


class TicketClosed(ServiceError):
    status_code = 409
    code = "ticket_closed"


def ticket_message_post(ticket: SupportTicket, author, body: str) -> TicketMessage:
    """Add a message to a thread. Whether it is a staff reply is decided here, from the author's role."""
    from accounts.services import notification_create
    from support import realtime

    body = body.strip()
    if not body:
        raise ServiceError("Write a message first.", fields={"body": ["This field may not be blank."]})
    if ticket.status == SupportTicket.Status.CLOSED:
        raise TicketClosed("This ticket is closed. Open a new one if you need more help.")
    staff = is_support_staff(author) and author.pk != ticket.user_id
    with transaction.atomic():
        message = TicketMessage.objects.create(ticket=ticket, author=author, body=body, is_staff_reply=staff)
        fields = {"updated_at": timezone.now()}
        if staff and ticket.status == SupportTicket.Status.OPEN:
            fields["status"] = SupportTicket.Status.IN_PROGRESS
        SupportTicket.objects.filter(pk=ticket.pk).update(**fields)
        if staff:
            notification_create(
                ticket.user,
                kind="support",
                title=f"Support replied: {ticket.subject[:80]}",
                body=body[:300],
                url=f"/support/{ticket.pk}/",
            )
        transaction.on_commit(lambda: realtime.ticket_message_announce(message))
    return message
