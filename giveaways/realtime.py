"""Realtime announcements of raffles, sent after commit (core.realtime has the rules)."""

from __future__ import annotations

from core import realtime


def raffle_group(raffle_id: int) -> str:
    return f"raffle.{raffle_id}"


def raffle_updated_announce(raffle_id: int) -> bool:
    """Tickets or status changed (opened, a sync counted tickets, a player entered, cancelled)."""
    return realtime.send_coalesced(raffle_group(raffle_id), "raffle.updated", raffle_id=raffle_id)


def raffle_drawn_announce(raffle_id: int) -> bool:
    return realtime.send(raffle_group(raffle_id), "raffle.drawn", raffle_id=raffle_id)
