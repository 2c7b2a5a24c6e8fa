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
            _telegram_reply_notify(ticket, body)
        transaction.on_commit(lambda: realtime.ticket_message_announce(message))
    return message


def _telegram_reply_notify(ticket: SupportTicket, body: str) -> None:
    """A staff reply also goes to the player's Telegram if linked and allowed by their preferences."""
    from html import escape

    from accounts.models import NotificationPreferences
    from telegram_bot.tasks import telegram_message_send_task

    owner = ticket.user
    prefs = NotificationPreferences.objects.filter(user=owner).first()
    if owner.telegram_id and (prefs is None or prefs.push_notifications):
        text = f"💬 Support replied to “{escape(ticket.subject[:80])}”:\n{escape(body[:500])}"
        telegram_message_send_task.delay_on_commit(owner.telegram_id, text)


def ticket_open(
    user, *, subject: str, description: str, priority: str = SupportTicket.Priority.MEDIUM
) -> SupportTicket:
    subject, description = (subject or "").strip(), (description or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = ["Give the ticket a subject."]
    if not description:
        errors["description"] = ["Describe what you need help with."]
    if priority not in SupportTicket.Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(SupportTicket.Priority.values)}."]
    if errors:
        raise ServiceError("The ticket is incomplete.", fields=errors)
    return SupportTicket.objects.create(
        user=user, subject=subject[:150], description=description[:5000], priority=priority
    )


def ticket_update(ticket: SupportTicket, *, actor, status: str | None = None, assign_to=None) -> SupportTicket:
    """Staff change a ticket's status or assignee (audited)."""
    from goatedvips.audit import audit_record

    if not is_support_staff(actor):
        raise ServiceError("Only support staff can change tickets.", code="forbidden")
    before = {"status": ticket.status, "assigned_to": ticket.assigned_to_id}
    if status is not None:
        if status not in SupportTicket.Status.values:
            raise ServiceError(f"Choose one of: {', '.join(SupportTicket.Status.values)}.", fields={"status": ["bad"]})
        ticket.status = status
        ticket.closed_at = timezone.now() if status == SupportTicket.Status.CLOSED else None
    if assign_to is not None:
        ticket.assigned_to = assign_to
    with transaction.atomic():
        ticket.save(update_fields=["status", "closed_at", "assigned_to", "updated_at"])
        audit_record(
            actor=actor, action="ticket.update", target=ticket, before=before,
            after={"status": ticket.status, "assigned_to": ticket.assigned_to_id},
        )  # fmt: skip
    return ticket
