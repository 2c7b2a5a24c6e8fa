"""The provably fair draw: the committed server seed, the roll, and the segment it lands on.

Pure functions of their inputs, so anyone can recompute a spin (the verify page does).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from django.conf import settings

from vip.models import WheelSegment


def wheel_server_seed(user_id: int, day: date) -> str:
    """The day's secret seed of a user: fixed in advance (derived from the server's secret), so the hash shown
    before a spin commits us to it; revealed with the spin."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"wheel:{user_id}:{day.isoformat()}".encode(), hashlib.sha256
    ).hexdigest()


def seed_hash(server_seed: str) -> str:
    return hashlib.sha256(server_seed.encode()).hexdigest()


def wheel_roll(server_seed: str, client_seed: str, nonce: int, total_weight: int) -> int:
    """HMAC-SHA256(server seed, "client_seed:nonce"), first 8 bytes as an integer, modulo the total weight. With
    64 bits against weights in the thousands the modulo bias is below 1e-14."""
    digest = hmac.new(server_seed.encode(), f"{client_seed}:{nonce}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


def wheel_pick(segments: list[WheelSegment], roll: int) -> WheelSegment:
    """Segments own consecutive ranges of [0, total weight) in position order."""
    edge = 0
    for segment in segments:
        edge += segment.weight
        if roll < edge:
            return segment
    raise ValueError("roll outside the wheel")
