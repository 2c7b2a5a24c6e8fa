"""Counting referral clicks: counters per (UTC day, campaign) kept in the cache and moved into
`ReferralClickDay` by a periodic flush, and unique visitors estimated from first sightings of a daily-keyed hash
kept only in the cache.

A click costs no database query: `incr` on the day's counters (atomic in Redis and in the embedded mode's
local-memory cache), and `referral_clicks_flush` (every minute, on the beat) adds what it takes away from the
cache to the day's row, one row per campaign. The cache cannot list its keys, so each campaign's first click of a
day also takes a numbered slot in the day's index (`incr` of a counter, then the slug under that number), which
the flush reads back. When the cache is unreachable a click is counted straight into its row (one UPDATE).

A visitor is HMAC-SHA256(key of the day, address + user agent), cut to 16 hex digits; the key of the day is
derived from SECRET_KEY and the date, and the hash lives in the cache for two days (`cache.add`: atomic in
Redis and in the local-memory cache). The first sighting of a hash on a day for a campaign counts one unique
visitor. Neither the address, nor the user agent, nor the hash is ever written to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from growth.models import ReferralClickDay

logger = logging.getLogger(__name__)
SEEN_SECONDS = 2 * 24 * 3600  # a day's sightings and counters outlive the day (a click near midnight UTC), then go
FLUSH_LOCK = "growth:clicks:flushing"
FLUSH_LOCK_SECONDS = 50  # under the beat's minute: a flush that died leaves the lock to the next one


def _visitor_hash(day: date, visitor: str) -> str:
    day_key = hmac.new(settings.SECRET_KEY.encode(), f"growth-visitor:{day.isoformat()}".encode(), hashlib.sha256)
    return hmac.new(day_key.digest(), visitor.encode(), hashlib.sha256).hexdigest()[:16]


def _first_sighting(day: date, campaign: str, visitor: str) -> bool:
    key = f"growth:seen:{day.isoformat()}:{campaign}:{_visitor_hash(day, visitor)}"
    return bool(cache.add(key, 1, timeout=SEEN_SECONDS))


def _key(day: date, *parts: object) -> str:
    return ":".join(["growth:clicks", day.isoformat(), *map(str, parts)])


def _incr(key: str, delta: int = 1) -> int:
    cache.add(key, 0, SEEN_SECONDS)
    return cache.incr(key, delta)


def _count_in_cache(day: date, campaign: str, unique: int) -> None:
    _incr(_key(day, "clicks", campaign))
    if unique:
        _incr(_key(day, "unique", campaign))
    if cache.add(_key(day, "known", campaign), 1, SEEN_SECONDS):  # the day's first click here: take a slot
        cache.set(_key(day, "slot", _incr(_key(day, "slots"))), campaign, SEEN_SECONDS)


def _count(day: date, campaign: str, clicks: int, unique: int) -> None:
    """clicks + n (and unique_visitors + u) in one UPDATE; the first count of a day creates the row, and a
    concurrent first count that loses the race to create it adds itself with the UPDATE instead."""
    rows = ReferralClickDay.objects.filter(day=day, campaign=campaign)
    increments = {"clicks": F("clicks") + clicks, "unique_visitors": F("unique_visitors") + unique}
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            ReferralClickDay.objects.create(day=day, campaign=campaign, clicks=clicks, unique_visitors=unique)
    except IntegrityError:
        rows.update(**increments)


def referral_click_record(campaign: str, visitor: str, now: datetime | None = None) -> bool:
    """Count one click on `/go/<campaign>/` by `visitor` (address and user agent, hashed here, never kept): in
    the cache, for the next flush; straight into the database when the cache fails. Never raises: a click that
    cannot be counted at all is logged and the visitor is redirected all the same."""
    day = (now or timezone.now()).astimezone(UTC).date()
    try:
        unique = int(_first_sighting(day, campaign, visitor))
    except Exception:  # the cache is down: the click still counts, as a visitor already seen
        logger.exception("referral click: unique visitor check failed (campaign %r)", campaign)
        unique = 0
    try:
        _count_in_cache(day, campaign, unique)
        return True
    except Exception:
        logger.exception("referral click: cache count failed, counted in the database (campaign %r)", campaign)
    try:
        _count(day, campaign, 1, unique)
    except Exception:
        logger.exception("referral click not counted (campaign %r)", campaign)
        return False
    return True


def _take(key: str) -> int:
    """What the counter holds, taken away from it (what arrives meanwhile stays for the next flush)."""
    value = int(cache.get(key) or 0)
    if value:
        cache.decr(key, value)
    return value


def referral_clicks_flush(now: datetime | None = None) -> int:
    """Move the cache's click counts of yesterday and today into ReferralClickDay (safe to run twice: a count
    taken from the cache is added once; a failed write gives its count back to the cache; a flush that finds
    another one running leaves the counts to it). Returns the clicks moved."""
    if not cache.add(FLUSH_LOCK, 1, FLUSH_LOCK_SECONDS):
        return 0
    try:
        return _flush((now or timezone.now()).astimezone(UTC).date())
    finally:
        cache.delete(FLUSH_LOCK)


def _flush(today: date) -> int:
    moved = 0
    for day in (today - timedelta(days=1), today):
        slots = int(cache.get(_key(day, "slots")) or 0)
        campaigns = cache.get_many([_key(day, "slot", n) for n in range(1, slots + 1)]).values()
        for campaign in sorted(set(campaigns)):
            clicks, unique = _take(_key(day, "clicks", campaign)), _take(_key(day, "unique", campaign))
            if not (clicks or unique):
                continue
            try:
                _count(day, campaign, clicks, unique)
            except Exception:
                _incr(_key(day, "clicks", campaign), clicks)
                _incr(_key(day, "unique", campaign), unique)
                raise
            moved += clicks
    return moved
