"""A ticket that leaves someone's reach re-checks its open thread sockets (docs/security.md, "Socket lifetime
rules"). Reassignment is announced by `support.services.ticket_update`; deletion (admin, a cascade from the
owner's account) by this receiver."""

from __future__ import annotations

from django.db import transaction

from core import realtime as core_realtime
from support.realtime import ticket_group


def ticket_deleted(sender, instance, **kwargs) -> None:
    group = ticket_group(instance.pk)
    transaction.on_commit(lambda: core_realtime.access_recheck(group))
