"""Reads about the feed: its health (source, last syncs, token, lock) and sync health per hour over the last 24
hours (the dashboard and the transformation log page)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from core.charts import Chart, Series
from races.feed.client import feed_source
from races.feed.credentials import feed_token_current, token_warning_level
from races.feed.lock import sync_running
from races.feed.models import TransformationLog


def _sync_hours(now: datetime):
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    hours = [start + timedelta(hours=i) for i in range(24)]
    rows = (
        TransformationLog.objects.filter(payload__kind="sync", created_at__gte=start)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour", "payload__ok")
        .annotate(n=Count("pk"), ms=Sum("duration_ms"))
    )
    total, failed, duration = Counter(), Counter(), Counter()
    for r in rows:
        total[r["hour"]] += r["n"]
        duration[r["hour"]] += r["ms"] or 0
        if r["payload__ok"] is not True:
            failed[r["hour"]] += r["n"]
    return hours, total, failed, duration


def sync_duration(days: int, now: datetime) -> Chart:
    hours, total, _failed, duration = _sync_hours(now)
    values = [round(duration[h] / total[h], 1) if total[h] else 0.0 for h in hours]
    return Chart("sync-duration", "Feed sync: average duration per hour (last 24 h)",
                 [h.strftime("%H:00") for h in hours], [Series("Average duration", values)], unit="ms",
                 kind="line", x_title="hour (UTC)", empty="No sync in the last 24 hours.")  # fmt: skip


def sync_errors(days: int, now: datetime) -> Chart:
    hours, total, failed, _duration = _sync_hours(now)
    values = [round(100 * failed[h] / total[h], 1) if total[h] else 0.0 for h in hours]
    chart = Chart("sync-errors", "Feed sync: failed share per hour (last 24 h)", [h.strftime("%H:00") for h in hours],
                  [Series("Failed", values)], unit="percent", x_title="hour (UTC)",
                  empty="No failed sync in the last 24 hours.")  # fmt: skip
    return chart


@dataclass
class FeedStatus:
    source: str  # "affiliate" or "demo"
    url: str
    last_success: TransformationLog | None
    last_failure: TransformationLog | None
    token_set: bool
    token_expires_at: datetime | None
    running: bool
    # Where the token comes from: "admin" (stored, encrypted), "environment", "unreadable" or "none".
    token_origin: str = "environment"  # noqa: S105 (a label, not a secret)
    token_fingerprint: str = ""

    @property
    def token_warning(self) -> str:
        """ "", "amber" (under 24 h left) or "red" (under 2 h, or expired)."""
        return token_warning_level(self.token_expires_at)

    @property
    def token_expired(self) -> bool:
        return bool(self.token_expires_at and self.token_expires_at <= timezone.now())

    @property
    def failing(self) -> bool:
        """The latest sync attempt failed (a later success clears it)."""
        if self.last_failure is None:
            return False
        return self.last_success is None or self.last_failure.created_at > self.last_success.created_at


def feed_status() -> FeedStatus:
    """The feed's health for the back office: source, last success and failure, the token, a sync running."""
    syncs = TransformationLog.objects.filter(payload__kind="sync").order_by("-created_at")
    current = feed_token_current()
    return FeedStatus(
        source=feed_source(),
        url=settings.AFFILIATE_API_URL,
        last_success=syncs.filter(payload__ok=True).first(),
        last_failure=syncs.filter(payload__ok=False).first(),
        token_set=bool(current.token),
        token_expires_at=current.expires_at,
        token_origin=current.source,
        token_fingerprint=current.credential.fingerprint if current.credential else "",
        running=sync_running(),
    )
