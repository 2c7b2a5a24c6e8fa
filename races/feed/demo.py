"""The built-in demo feed (embedded mode, `AFFILIATE_API_URL` unset): players who wager over time, in the upstream
format, deterministic from a seed and the clock, so every run of `make run` moves the leaderboard the same way.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from races.feed.volume import period_start

DEMO_PLAYER_COUNT = 300
DEMO_SEED = 20250301

_ADJECTIVES = [
    "Lucky",
    "Golden",
    "Wild",
    "Neon",
    "Crypto",
    "Royal",
    "Silent",
    "Turbo",
    "Mega",
    "Iron",
    "Shadow",
    "Cosmic",
    "Frosty",
    "Blazing",
    "Diamond",
    "Savage",
]
_NOUNS = [
    "Goat",
    "Whale",
    "Shark",
    "Tiger",
    "Falcon",
    "Viking",
    "Ninja",
    "Ace",
    "Baron",
    "Wizard",
    "Rocket",
    "Panther",
    "Raven",
    "Knight",
    "Dragon",
    "Bull",
]
_UID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def demo_player_identities(count: int = DEMO_PLAYER_COUNT, seed: int = DEMO_SEED) -> list[tuple[str, str]]:
    """(uid, name) pairs, the same on every run."""
    rng = random.Random(seed)
    seen_names: set[str] = set()
    out = []
    while len(out) < count:
        name = f"{rng.choice(_ADJECTIVES)}{rng.choice(_NOUNS)}{rng.randint(1, 999)}"
        if name in seen_names:
            continue
        seen_names.add(name)
        uid = "".join(rng.choice(_UID_ALPHABET) for _ in range(20))
        out.append((uid, name))
    return out


# --- demo feed -----------------------------------------------------------------------------------------------

DEMO_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _DemoPlayer:
    uid: str
    name: str
    rate: float  # USD per hour, on average
    wobble: float  # how much the pace varies over the day
    phase: float
    base: float  # all-time wagered before the demo epoch


def _demo_players(count: int, seed: int) -> list[_DemoPlayer]:
    rng = random.Random(seed)
    players = []
    for uid, name in demo_player_identities(count, seed):
        # Heavy-tailed: a few whales, many small players, about one in ten idle.
        idle = rng.random() < 0.1
        rate = 0.0 if idle else (rng.paretovariate(1.3) - 0.9) * 6
        players.append(
            _DemoPlayer(
                uid=uid,
                name=name,
                rate=max(rate, 0.0),
                wobble=rng.uniform(0.2, 0.95),
                phase=rng.uniform(0, 2 * math.pi),
                base=rng.uniform(0, 50_000) * (0 if idle else 1),
            )
        )
    return players


def _cumulative(p: _DemoPlayer, at: datetime) -> float:
    """Wagered since the demo epoch: never decreasing (pace = rate × (1 ± wobble) over a 6-hour cycle)."""
    hours = (at - DEMO_EPOCH).total_seconds() / 3600
    omega = 2 * math.pi / 6
    return p.rate * (hours + p.wobble * (math.sin(omega * hours + p.phase) - math.sin(p.phase)) / omega)


def demo_feed_payload(now: datetime | None = None, count: int | None = None, seed: int | None = None) -> dict:
    """The demo feed in the upstream format, deterministic from the seed and the clock."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    day, week, month = (period_start(period, now) for period in ("today", "week", "month"))
    data = []
    for p in _demo_players(count or DEMO_PLAYER_COUNT, seed or DEMO_SEED):
        total = _cumulative(p, now)

        def since(start: datetime, p=p, total=total) -> str:
            return f"{max(total - _cumulative(p, start), 0.0):.6f}"

        data.append(
            {
                "uid": p.uid,
                "name": p.name,
                "wagered": {
                    "today": since(day),
                    "this_week": since(week),
                    "this_month": since(month),
                    "all_time": f"{p.base + total:.6f}",
                },
            }
        )
    return {"success": True, "data": data}
