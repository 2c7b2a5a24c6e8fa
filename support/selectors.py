"""Reads on support tickets."""

from __future__ import annotations

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User, VerificationRequest
from core.roles import is_support_staff
from support.models import CannedReply, SupportTicket, TicketMessage
from vip.selectors import TierTable

PAST_TICKETS = 5


def ticket_visible_to(user) -> QuerySet[SupportTicket]:
    """Staff see every ticket; a player only their own."""
    if is_support_staff(user):
        return SupportTicket.objects.all()
    return SupportTicket.objects.filter(user_id=user.pk)


def tickets_with_wait(queryset: QuerySet[SupportTicket]) -> QuerySet[SupportTicket]:
    """Each ticket with `player_last_at` (the player's last word: their latest message, or the ticket itself) and
    `staff_last_at` (the latest staff reply, or None), in the same query (the inbox's waiting time and order)."""
    mine = TicketMessage.objects.filter(ticket=OuterRef("pk"), is_staff_reply=False, author=OuterRef("user_id"))
    staff = TicketMessage.objects.filter(ticket=OuterRef("pk"), is_staff_reply=True)
    latest = "-created_at"
    return queryset.annotate(
        player_last_at=Coalesce(
            Subquery(mine.order_by(latest).values("created_at")[:1], output_field=DateTimeField()), "created_at"
        ),
        staff_last_at=Subquery(staff.order_by(latest).values("created_at")[:1], output_field=DateTimeField()),
    )


def ticket_thread(ticket: SupportTicket) -> list[dict]:
    """The conversation as staff read it, oldest first: the ticket's own text is the player's first message."""
    first = {"who": ticket.user.public_name, "staff": False, "at": ticket.created_at, "body": ticket.description}
    rows = TicketMessage.objects.filter(ticket=ticket).select_related("author").order_by("created_at", "pk")
    return [first, *({"who": m.author.public_name, "staff": m.is_staff_reply, "at": m.created_at, "body": m.body}
                     for m in rows)]  # fmt: skip


def ticket_player_context(ticket: SupportTicket) -> dict:
    """What an agent needs beside the thread: the account, its linked Goated player (tier, wagers), the
    verification and the player's other tickets."""
    user: User = ticket.user
    player = user.player
    context = {"user": user, "player": player, "tier": None, "verification": None, "past_tickets": []}
    if player is not None:
        context["tier"] = TierTable().name_for(player.wager_all_time)
        context["wagers"] = [("Today", player.wager_today), ("This week", player.wager_week),
                             ("This month", player.wager_month), ("All time", player.wager_all_time)]  # fmt: skip
    context["verification"] = VerificationRequest.objects.filter(user=user).order_by("-requested_at").first()
    others = SupportTicket.objects.filter(user=user).exclude(pk=ticket.pk).order_by("-created_at")
    context["past_tickets"] = list(others[:PAST_TICKETS])
    context["past_total"] = others.count()
    return context


def canned_replies() -> QuerySet[CannedReply]:
    return CannedReply.objects.order_by("title")
