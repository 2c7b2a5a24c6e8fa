"""The provably fair draw: a random server seed committed by its hash, the roll, and the slice it lands on.

Pure functions of their inputs (nothing depends on SECRET_KEY or on the database), so anyone can recompute a
spin from its revealed server seed, their client seed, the nonce and the segment table the spin stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Slice:
    """One segment as a spin saw it."""

    position: int
    label: str
    weight: int
    reward: Decimal


def table_of(segments) -> list[Slice]:
    """The active segments (WheelSegment rows, in position order) as the table a spin is drawn from."""
    return [Slice(s.position, s.label, s.weight, s.reward_amount) for s in segments]


def table_to_json(table: list[Slice]) -> list[list]:
    return [[s.position, s.label, s.weight, str(s.reward)] for s in table]


def table_from_json(rows: list[list]) -> list[Slice]:
    return [Slice(int(p), str(label), int(w), Decimal(reward)) for p, label, w, reward in rows]


def new_server_seed() -> str:
    """256 random bits from the operating system: unguessable, and derived from nothing."""
    return secrets.token_hex(32)


def seed_hash(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode()).hexdigest()


def wheel_roll(server_seed: str, client_seed: str, nonce: int, total_weight: int) -> int:
    """HMAC-SHA256(server seed, "client_seed:nonce"), first 8 bytes as an integer, modulo the total weight. With
    64 bits against weights in the thousands the modulo bias is below 1e-14."""
    digest = hmac.new(server_seed.encode(), f"{client_seed}:{nonce}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


def wheel_pick(table, roll: int):
    """Slices own consecutive ranges of [0, total weight) in position order."""
    edge = 0
    for segment in table:
        edge += segment.weight
        if roll < edge:
            return segment
    raise ValueError("roll outside the wheel")
