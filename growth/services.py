"""Counting referral clicks: one atomic counter row per (UTC day, campaign), and unique visitors estimated from
first sightings of a daily-keyed hash kept only in the cache.

A visitor is HMAC-SHA256(key of the day, address + user agent), cut to 16 hex digits; the key of the day is
derived from SECRET_KEY and the date, and the hash lives in the cache for two days (`cache.add`: atomic in
Redis and in the local-memory cache). The first sighting of a hash on a day for a campaign counts one unique
visitor. Neither the address, nor the user agent, nor the hash is ever written to the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from growth.models import ReferralClickDay

logger = logging.getLogger(__name__)
SEEN_SECONDS = 2 * 24 * 3600  # a day's sightings outlive the day (a visitor near midnight UTC), then go


def _visitor_hash(day: date, visitor: str) -> str:
    day_key = hmac.new(settings.SECRET_KEY.encode(), f"growth-visitor:{day.isoformat()}".encode(), hashlib.sha256)
    return hmac.new(day_key.digest(), visitor.encode(), hashlib.sha256).hexdigest()[:16]


def _first_sighting(day: date, campaign: str, visitor: str) -> bool:
    key = f"growth:seen:{day.isoformat()}:{campaign}:{_visitor_hash(day, visitor)}"
    return bool(cache.add(key, 1, timeout=SEEN_SECONDS))


def _count(day: date, campaign: str, unique: int) -> None:
    """clicks + 1 (and unique_visitors + unique) in one UPDATE; the day's first click creates the row, and a
    concurrent first click that loses the race to create it adds itself with the UPDATE instead."""
    rows = ReferralClickDay.objects.filter(day=day, campaign=campaign)
    if rows.update(clicks=F("clicks") + 1, unique_visitors=F("unique_visitors") + unique):
        return
    try:
        with transaction.atomic():
            ReferralClickDay.objects.create(day=day, campaign=campaign, clicks=1, unique_visitors=unique)
    except IntegrityError:
        rows.update(clicks=F("clicks") + 1, unique_visitors=F("unique_visitors") + unique)


def referral_click_record(campaign: str, visitor: str, now: datetime | None = None) -> bool:
    """Count one click on `/go/<campaign>/` by `visitor` (address and user agent, hashed here, never kept).
    Never raises: a click that cannot be counted is logged and the visitor is redirected all the same."""
    day = (now or timezone.now()).astimezone(UTC).date()
    try:
        unique = int(_first_sighting(day, campaign, visitor))
    except Exception:  # the cache is down: the click still counts, as a visitor already seen
        logger.exception("referral click: unique visitor check failed (campaign %r)", campaign)
        unique = 0
    try:
        _count(day, campaign, unique)
    except Exception:
        logger.exception("referral click not counted (campaign %r)", campaign)
        return False
    return True
