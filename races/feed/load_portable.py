"""Writing a feed batch on any database (embedded SQLite): read the stored values, write only what differs."""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal

from django.db import connection

from races.feed.client import FeedRow
from races.feed.models import Player

Q8 = Decimal("0.00000001")
_SQLITE_DIGITS = Context(prec=15)


def _as_stored(value: Decimal) -> Decimal:
    """What the database will give back for a value: SQLite keeps decimals as doubles (15 significant digits)."""
    if connection.vendor == "sqlite":
        return _SQLITE_DIGITS.create_decimal_from_float(float(value)).quantize(Q8)
    return value.quantize(Q8)


def _player(r: FeedRow, **extra) -> Player:
    return Player(
        name=r.name, wager_today=r.today, wager_week=r.week, wager_month=r.month, wager_all_time=r.all_time, **extra
    )


def feed_rows_write_portable(rows: list[FeedRow], now: datetime) -> tuple[int, int]:
    """Writing a feed batch anywhere else (SQLite): compare in Python, bulk create and update. Returns (created,
    updated)."""
    fields = ("name", "wager_today", "wager_week", "wager_month", "wager_all_time")
    existing = {
        uid: (pk, values)
        for pk, uid, *values in Player.objects.values_list("pk", "uid", *fields).iterator(chunk_size=5000)
    }
    new, changed = [], []
    for r in rows:
        incoming = (r.name, _as_stored(r.today), _as_stored(r.week), _as_stored(r.month), _as_stored(r.all_time))
        if r.uid not in existing:
            new.append(_player(r, uid=r.uid, first_seen=now, last_seen=now))
            continue
        pk, values = existing[r.uid]
        stored = (values[0], *(_as_stored(v) for v in values[1:]))
        if stored != incoming:
            changed.append(_player(r, pk=pk, last_seen=now, updated_at=now))
    Player.objects.bulk_create(new, batch_size=2000)
    Player.objects.bulk_update(changed, [*fields, "last_seen", "updated_at"], batch_size=2000)
    return len(new), len(changed)
