"""Payout providers: who actually moves the money. The queue (payouts.services) talks to one through
`PayoutProvider`; the manual provider (the default) leaves the paying to an operator, who then marks the payout
paid with a reference. A real provider (a casino tip API, a crypto wallet) is a class with the same two members,
named by PAYOUT_PROVIDER; nothing in the queue changes.

The idempotency key. The queue asks a provider to send a payout once: it first claims the payout (approved →
sending, under a lock) with a fresh UUID, stores it as `Payout.send_key`, and passes it to `send` as
`idempotency_key`. A provider must treat every request with a key it has already seen as the same payment: never
pay twice for one key, and answer with the outcome of the first request (pass the key to an API that supports
idempotency keys, or keep a table of keys and their payments). The key is the only thing that makes a retried
request after a timeout safe. A new key is made only after the payout has provably failed (failed → retry →
pending → approved → sent again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PayoutAttempt:
    """What a provider did with one payout: `paid` (with its reference), `pending` (not final yet: the payout stays
    `sending` until an operator marks it paid or failed), or `failed` (with the reason; the payout can be retried).
    A provider that cannot tell (a timeout) answers `pending`, never `failed`: failed may be paid again."""

    outcome: str
    reference: str = ""
    message: str = ""


class PayoutProvider(Protocol):
    name: str  # stored as the payout's method

    def send(self, *, payout_id: int, amount, destination: str, idempotency_key: str) -> PayoutAttempt:
        """Pay `amount` to `destination` once per `idempotency_key` (a repeated key is the same payment)."""
        ...


class ManualProvider:
    """An operator pays on Goated by hand (a tip to the username), then marks the payout paid with the reference
    of that tip, in admin one by one, in bulk, or by importing a CSV of references."""

    name = "manual"

    def send(self, *, payout_id: int, amount, destination: str, idempotency_key: str) -> PayoutAttempt:
        return PayoutAttempt("pending", message="Pay it on Goated by hand, then mark it paid with the reference.")


def payout_provider() -> PayoutProvider:
    return import_string(settings.PAYOUT_PROVIDER)()
