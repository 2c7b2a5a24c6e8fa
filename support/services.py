"""Writes on support tickets. A ticket's status and assignee change only here.

open ──(first staff reply)──▶ in progress ──(close, or reply & close)──▶ closed ──(reopen)──▶ open
  └──────────────────────────(close, or reply & close)──────────────────▶ closed

A staff reply on an unassigned ticket also assigns it to the replier. Each staff step writes one audit entry:
`ticket.reply` for a reply (with whatever it moved), `ticket.update` for an assignment or a status change.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core import realtime as core_realtime
from core.audit import audit_record
from core.errors import Forbidden, ServiceError
from core.models import AuditEntry
from core.roles import is_support_staff
from notifications.services import notify
from support import realtime
from support.models import SupportTicket, TicketMessage

SUBJECT_MAX = 150
MESSAGE_MAX = 5000


class TicketClosed(ServiceError):
    status_code = 409
    code = "ticket_closed"


def ticket_open(
    user, *, subject: str, description: str, priority: str = SupportTicket.Priority.MEDIUM
) -> SupportTicket:
    subject, description = (subject or "").strip(), (description or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = ["Give the ticket a subject."]
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"Keep the subject under {SUBJECT_MAX} characters ({len(subject):,} now)."]
    if not description:
        errors["description"] = ["Describe what you need help with."]
    elif len(description) > MESSAGE_MAX:
        errors["description"] = [f"Keep the description under {MESSAGE_MAX:,} characters ({len(description):,} now)."]
    if priority not in SupportTicket.Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(SupportTicket.Priority.values)}."]
    if errors:
        raise ServiceError("The ticket is incomplete.", fields=errors)
    return SupportTicket.objects.create(user=user, subject=subject, description=description, priority=priority)


def ticket_message_post(
    ticket: SupportTicket, author, body: str, *, close: bool = False, source: str = AuditEntry.Source.SERVICE
) -> TicketMessage:
    """Add a message to a thread. Whether it is a staff reply is decided here, from the author's role. A staff
    reply moves an open ticket to "in progress", takes an unassigned ticket for the replier, closes the ticket
    with `close=True` ("Reply & close"), tells the owner, and writes one audit entry, `ticket.reply`, with the
    status and assignee before and after (so a press of "Reply" leaves exactly one trace, whatever it moved)."""
    body = (body or "").strip()
    if not body:
        raise ServiceError("Write a message first.", fields={"body": ["This field may not be blank."]})
    if len(body) > MESSAGE_MAX:
        message = f"Keep messages under {MESSAGE_MAX:,} characters ({len(body):,} now); split it in two."
        raise ServiceError(message, fields={"body": [message]})
    staff = is_support_staff(author) and author.pk != ticket.user_id
    if close and not staff:
        raise Forbidden("Only support staff can close a ticket with a reply.")
    with transaction.atomic():
        # Read the ticket under a row lock: two agents answering the same unassigned ticket at once must not both
        # take it, and a ticket closed meanwhile takes no more messages.
        current = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        if current.status == SupportTicket.Status.CLOSED:
            raise TicketClosed("This ticket is closed. Open a new one if you need more help.")
        message = TicketMessage.objects.create(ticket=current, author=author, body=body, is_staff_reply=staff)
        before = {"status": current.status, "assigned_to": current.assigned_to_id}
        now = timezone.now()
        if staff and current.assigned_to_id is None:
            current.assigned_to = author
        if staff and current.status == SupportTicket.Status.OPEN:
            current.status = SupportTicket.Status.IN_PROGRESS
        if close:
            current.status, current.closed_at = SupportTicket.Status.CLOSED, now
        current.updated_at = now
        after = {"status": current.status, "assigned_to": current.assigned_to_id}
        SupportTicket.objects.filter(pk=current.pk).update(
            status=current.status, assigned_to=current.assigned_to, closed_at=current.closed_at, updated_at=now
        )
        if staff:
            audit_record(actor=author, action="ticket.reply", target=current, source=source, before=before,
                         after=after, note=f"message {message.pk}")  # fmt: skip
            notify(
                ticket.user, "ticket.reply", title=f"Support replied to “{ticket.subject[:80]}”", body=body[:300],
                url=f"/support/{ticket.pk}/",
            )  # fmt: skip
        transaction.on_commit(lambda: realtime.ticket_message_announce(message, current))
        if close:
            transaction.on_commit(lambda: realtime.ticket_status_announce(current))
        if before["assigned_to"] != after["assigned_to"]:
            # The ticket changed hands: every open thread socket checks again that its user may still follow it.
            transaction.on_commit(lambda: core_realtime.access_recheck(realtime.ticket_group(current.pk)))
    # The caller's copy shows what was written (admin and API answer from it).
    ticket.status, ticket.updated_at, ticket.assigned_to = current.status, current.updated_at, current.assigned_to
    ticket.closed_at = current.closed_at
    return message


_UNSET = object()


def ticket_update(
    ticket: SupportTicket,
    *,
    actor,
    status: str | None = None,
    assign_to=_UNSET,
    source: str = AuditEntry.Source.SERVICE,
) -> SupportTicket:
    """Staff change a ticket's status and/or assignee (`assign_to=None` unassigns); one audit entry per change.
    The row is read again under a lock, so a change made meanwhile (a reply that took the ticket) is neither
    overwritten nor misreported in the audit entry's "before"."""
    if not is_support_staff(actor):
        raise Forbidden("Only support staff can change tickets.")
    if status is not None and status not in SupportTicket.Status.values:
        choices = ", ".join(SupportTicket.Status.values)
        raise ServiceError(f"Choose one of: {choices}.", fields={"status": [f"Choose one of: {choices}."]})
    if assign_to is not _UNSET and assign_to is not None and not is_support_staff(assign_to):
        raise ServiceError(f"{assign_to} is not support staff and cannot take tickets.", code="not_staff")
    with transaction.atomic():
        current = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        before = {"status": current.status, "assigned_to": current.assigned_to_id}
        if status is not None and status != current.status:
            current.status = status
            current.closed_at = timezone.now() if status == SupportTicket.Status.CLOSED else None
        if assign_to is not _UNSET:
            current.assigned_to = assign_to
        after = {"status": current.status, "assigned_to": current.assigned_to_id}
        if after != before:  # else nothing to do: no write, no audit entry
            current.save(update_fields=["status", "closed_at", "assigned_to", "updated_at"])
            audit_record(actor=actor, action="ticket.update", target=current, before=before, after=after, source=source)
            if before["status"] != after["status"]:
                transaction.on_commit(lambda: realtime.ticket_status_announce(current))
            if before["assigned_to"] != after["assigned_to"]:
                # The ticket changed hands: every open thread socket checks again that its user may still follow it.
                transaction.on_commit(lambda: core_realtime.access_recheck(realtime.ticket_group(current.pk)))
    # The caller's copy shows what is stored (admin and API answer from it).
    ticket.status, ticket.closed_at, ticket.updated_at = current.status, current.closed_at, current.updated_at
    ticket.assigned_to = current.assigned_to
    return ticket


def ticket_assign(ticket: SupportTicket, *, actor, assignee, source: str = AuditEntry.Source.SERVICE) -> SupportTicket:
    return ticket_update(ticket, actor=actor, assign_to=assignee, source=source)


def ticket_close(ticket: SupportTicket, *, actor, source: str = AuditEntry.Source.SERVICE) -> SupportTicket:
    return ticket_update(ticket, actor=actor, status=SupportTicket.Status.CLOSED, source=source)


def ticket_reopen(ticket: SupportTicket, *, actor, source: str = AuditEntry.Source.SERVICE) -> SupportTicket:
    if ticket.status != SupportTicket.Status.CLOSED:
        raise ServiceError(f"Ticket #{ticket.pk} is not closed.", code="not_closed")
    return ticket_update(ticket, actor=actor, status=SupportTicket.Status.OPEN, source=source)
