"""Reads on support tickets."""

from __future__ import annotations

from django.db.models import QuerySet

from core.roles import is_support_staff
from support.models import SupportTicket


def ticket_visible_to(user) -> QuerySet[SupportTicket]:
    """Staff see every ticket; a player only their own."""
    if is_support_staff(user):
        return SupportTicket.objects.all()
    return SupportTicket.objects.filter(user_id=user.pk)
