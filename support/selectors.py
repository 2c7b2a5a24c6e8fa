"""Reads on support tickets."""

from __future__ import annotations

from django.db.models import QuerySet

from support.models import SupportTicket

STAFF_PERMISSION = "support.view_supportticket"


def is_support_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(STAFF_PERMISSION))


def ticket_visible_to(user) -> QuerySet[SupportTicket]:
    """Staff see every ticket; a player only their own."""
    if is_support_staff(user):
        return SupportTicket.objects.all()
    return SupportTicket.objects.filter(user_id=user.pk)
