"""The raffle draw of DESIGN §7, which anyone can recompute: pure functions, no database, no Django.

- `server_seed` is 64 lowercase hex characters; its commitment is the SHA-256 hex of its ASCII text, published
  when the raffle is created.
- The entries are ordered by uid in Unicode code-point order (Python's `sorted` on `str`, never a database
  collation); their digest is the SHA-256 hex of the UTF-8 text of one line `"{uid}:{tickets}\\n"` per entry.
- Winner k (1-based) is drawn among the entries left: `h = HMAC-SHA256(server_seed, f"{digest}:{k}")`,
  `r = int(h, 16) mod (tickets left)`, and the entry whose ticket range holds r wins and leaves the draw.

docs/raffles.md has a 20-line script that does the same; the verify page's script (static/js/raffle-verify.js)
does it in the browser. tests/giveaways/test_draw.py keeps the three in agreement.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SEED_HEX_LENGTH = 64


@dataclass(frozen=True)
class Entry:
    uid: str
    tickets: int


def seed_new() -> str:
    """A fresh random server seed: 64 lowercase hex characters."""
    return secrets.token_hex(SEED_HEX_LENGTH // 2)


def seed_hash(server_seed: str) -> str:
    """The published commitment to a seed: the SHA-256 hex of its ASCII text."""
    return hashlib.sha256(server_seed.encode("ascii")).hexdigest()


def entries_ordered(entries: list[Entry]) -> list[Entry]:
    """Entries with at least one ticket, in uid code-point order (the order the digest and the draw use)."""
    return sorted((e for e in entries if e.tickets > 0), key=lambda e: e.uid)


def entries_text(entries: list[Entry]) -> str:
    return "".join(f"{e.uid}:{e.tickets}\n" for e in entries_ordered(entries))


def entries_digest(entries: list[Entry]) -> str:
    """The SHA-256 hex of the entry list's text (one `uid:tickets` line per entry, in draw order)."""
    return hashlib.sha256(entries_text(entries).encode("utf-8")).hexdigest()


def draw_number(server_seed: str, digest: str, k: int) -> int:
    """The k-th draw's number: HMAC-SHA256(key=seed, msg=f"{digest}:{k}") read as a big-endian integer."""
    mac = hmac.new(server_seed.encode("ascii"), f"{digest}:{k}".encode("ascii"), hashlib.sha256)
    return int(mac.hexdigest(), 16)


def draw_winners(server_seed: str, entries: list[Entry], winners_count: int) -> list[Entry]:
    """The winners in position order (first = position 1); fewer than `winners_count` when there are fewer
    entries, none when there are none."""
    remaining = entries_ordered(entries)
    digest = entries_digest(remaining)
    winners: list[Entry] = []
    for k in range(1, min(winners_count, len(remaining)) + 1):
        r = draw_number(server_seed, digest, k) % sum(e.tickets for e in remaining)
        for entry in remaining:
            if r < entry.tickets:
                winners.append(entry)
                remaining.remove(entry)
                break
            r -= entry.tickets
    return winners
