"""Feed sync health per hour over the last 24 hours (the dashboard and the transformation log page)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from core.charts import Chart, Series
from races.models import TransformationLog


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
