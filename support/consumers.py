"""`/ws/support/<ticket_id>/`: a ticket's thread, for its owner and support staff only."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from core.consumers import NOT_FOUND, UNAUTHORIZED, StreamConsumer
from support.models import SupportTicket, TicketMessage
from support.realtime import message_payload, ticket_group, ticket_payload
from support.selectors import ticket_visible_to

# A snapshot carries the latest messages of the thread, never all of them (a long thread was megabytes); older
# ones are paged with GET /api/v1/support/tickets/<id>/messages/?limit=&offset= (oldest first).
SNAPSHOT_MESSAGES = 50


class TicketConsumer(StreamConsumer):
    relayed = frozenset({"ticket.message", "ticket.updated"})

    async def authorize(self) -> int | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            return UNAUTHORIZED
        self.ticket_id = int(self.scope["url_route"]["kwargs"]["ticket_id"])
        if not await database_sync_to_async(_may_follow)(user, self.ticket_id):
            return NOT_FOUND  # the same answer whether the ticket is someone else's or does not exist
        self.group = ticket_group(self.ticket_id)
        return None

    async def still_allowed(self) -> bool:
        user = self.scope.get("user")
        return await database_sync_to_async(_may_follow)(user, self.ticket_id)

    async def snapshot(self) -> dict:
        return await database_sync_to_async(_thread)(self.ticket_id)


def _may_follow(user, ticket_id: int) -> bool:
    # Read fresh: a banned user, or a staff member who lost the Support role, stops following.
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    return fresh is not None and ticket_visible_to(fresh).filter(pk=ticket_id).exists()


def _thread(ticket_id: int) -> dict:
    ticket = SupportTicket.objects.get(pk=ticket_id)
    thread = TicketMessage.objects.filter(ticket_id=ticket_id)
    total = thread.count()
    latest = list(thread.select_related("author").order_by("-created_at", "-pk")[:SNAPSHOT_MESSAGES])
    return {
        "ticket_id": ticket.pk,
        "status": ticket.status,
        "ticket": ticket_payload(ticket),
        "subject": ticket.subject,
        "messages": [message_payload(m) for m in reversed(latest)],  # oldest first, like the page
        "messages_total": total,
        "more": total > len(latest),  # older messages: the API's messages list, from offset 0
    }
