"""Payout providers: who actually moves the money. The queue (payouts.services) talks to one through
`PayoutProvider`; the manual provider (the default) leaves the paying to an operator, who then marks the payout
paid with a reference. A real provider (a casino tip API, a crypto wallet) is a class with the same two members,
named by PAYOUT_PROVIDER; nothing in the queue changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PayoutAttempt:
    """What a provider did with one payout: `paid` (with its reference), `pending` (nothing yet: an operator or
    the provider will confirm later), or `failed` (with the reason; the payout can be retried)."""

    outcome: str
    reference: str = ""
    message: str = ""


class PayoutProvider(Protocol):
    name: str  # stored as the payout's method

    def send(self, *, payout_id: int, amount, destination: str) -> PayoutAttempt: ...


class ManualProvider:
    """An operator pays on Goated by hand (a tip to the username), then marks the payout paid with the reference
    of that tip, in admin one by one, in bulk, or by importing a CSV of references."""

    name = "manual"

    def send(self, *, payout_id: int, amount, destination: str) -> PayoutAttempt:
        return PayoutAttempt("pending", message="Pay it on Goated by hand, then mark it paid with the reference.")


def payout_provider() -> PayoutProvider:
    return import_string(settings.PAYOUT_PROVIDER)()
