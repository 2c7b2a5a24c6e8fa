"""Round moments for the defaults operators see in forms: the end of a UTC day, not "now" to the second."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone


def end_of_day_utc(days_ahead: int = 0, now: datetime | None = None) -> datetime:
    """23:59:59 UTC of the day `days_ahead` days after today (UTC): an expiry that reads as a date."""
    day = (now or timezone.now()).astimezone(UTC).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
