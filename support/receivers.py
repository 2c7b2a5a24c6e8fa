"""A ticket that leaves someone's reach re-checks its open thread sockets (docs/security.md, "Socket lifetime
rules"). Reassignment is announced by `support.services.ticket_update`; deletion (admin, a cascade from the
owner's account) by this receiver."""

from __future__ import annotations

from django.db import transaction

from core import realtime as core_realtime
from support.models import SupportTicket, TicketMessage
from support.realtime import ticket_group


def ticket_deleted(sender, instance, **kwargs) -> None:
    group = ticket_group(instance.pk)
    transaction.on_commit(lambda: core_realtime.access_recheck(group))


def account_erased(sender, *, user, pseudonym: str, **kwargs) -> None:
    """An account was erased (accounts.erasure): the text the person wrote in their tickets goes; the tickets stay
    (the support history of the operator) under the pseudonym."""
    SupportTicket.objects.filter(user=user).update(subject=f"Ticket of {pseudonym}", description="[erased]")
    TicketMessage.objects.filter(author=user).update(body="[erased]")
