"""Feed facts for /metrics, read from the database when scraped (core.metrics)."""

from __future__ import annotations

import time

from prometheus_client.core import GaugeMetricFamily

AGE = ("goatedvips_sync_last_success_age_seconds", "Seconds since the last successful feed sync (-1: never)")
EXPIRY = ("goatedvips_feed_token_expires_in_seconds", "Seconds until the affiliate token expires (absent: unknown)")


class FeedGauges:
    def describe(self):
        """The names, without reading anything (the registry asks when the collector is registered, at startup)."""
        return [GaugeMetricFamily(*AGE), GaugeMetricFamily(*EXPIRY)]

    def collect(self):
        from races.feed.credentials import feed_token_current
        from races.feed.models import TransformationLog

        age = GaugeMetricFamily(*AGE)
        try:
            last = (
                TransformationLog.objects.filter(payload__kind="sync", payload__ok=True)
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            expires_at = feed_token_current().expires_at
        except Exception:  # the database is down: /metrics still answers (the gauges are absent)
            return
        age.add_metric([], time.time() - last.timestamp() if last else -1)
        yield age
        expiry = GaugeMetricFamily(*EXPIRY)
        if expires_at is not None:
            expiry.add_metric([], expires_at.timestamp() - time.time())
        yield expiry
