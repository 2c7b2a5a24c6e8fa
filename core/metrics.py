"""Prometheus metrics (prometheus-client), scraped at `GET /metrics` (goatedvips.views.metrics).

Every process keeps its own counters; with PROMETHEUS_MULTIPROC_DIR set (the scaled topology: several daphne
processes and Celery workers on one machine) they write to files in that directory and `/metrics` of any web
process reports the sum of all of them. Gauges that are facts about the data (seconds since the last good sync,
until the feed token expires) are computed when scraped, from the database, so every process agrees.

Metric names are stable: dashboards and the alert rules in docs/operations.md use them.
"""

from __future__ import annotations

import os
import time

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_LIVE = {"multiprocess_mode": "livesum"} if MULTIPROCESS else {}

HTTP_REQUESTS = Counter("goatedvips_http_requests_total", "HTTP requests", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "goatedvips_http_request_duration_seconds", "HTTP request duration", ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
SYNCS = Counter("goatedvips_sync_runs_total", "Feed syncs by outcome", ["outcome"])  # ok, failed, skipped
SYNC_DURATION = Histogram(
    "goatedvips_sync_duration_seconds", "Feed sync duration", buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 45, 90)
)
SYNC_ROWS = Counter("goatedvips_sync_rows_total", "Feed rows handled by syncs", ["kind"])  # created, updated...
TASKS = Counter("goatedvips_celery_tasks_total", "Celery task runs by outcome", ["task", "outcome"])
TASK_DURATION = Histogram(
    "goatedvips_celery_task_duration_seconds", "Celery task duration", ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
)  # fmt: skip
SOCKETS_OPEN = Gauge("goatedvips_websockets_open", "Open WebSockets by stream", ["stream"], **_LIVE)
SOCKETS_OPENED = Counter("goatedvips_websockets_opened_total", "WebSockets accepted by stream", ["stream"])
EVENTS = Counter("goatedvips_realtime_events_total", "Realtime events by type and outcome", ["event", "outcome"])
LAYER_ERRORS = Counter("goatedvips_channel_layer_errors_total", "Channel layer send failures")
NOTIFICATIONS = Counter(
    "goatedvips_notification_sends_total", "Notification sends by channel and outcome", ["channel", "outcome"]
)


_data_collectors: list = []


def data_collector_add(collector) -> None:
    """A collector of facts read from the database at scrape time (an app registers it in its ready())."""
    if collector not in _data_collectors:
        _data_collectors.append(collector)
        if not MULTIPROCESS:
            REGISTRY.register(collector)


def metrics_text() -> bytes:
    """The exposition: this process's metrics (every process's, in multiprocess mode) and the data gauges."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _data_collectors:
        registry.register(collector)
    return generate_latest(registry)


KNOWN_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


_http_children: dict[tuple[str, str, int], tuple] = {}


def http_request_record(route: str, method: str, status: int, started: float) -> None:
    """Count and time one answered request; `started` is its `time.perf_counter()`. Django's requests
    (core.middleware.MetricsMiddleware) and the leaderboard fast path's (goatedvips.fastpath) both land here.
    The labelled children are kept per (route, method, status): `labels()` takes a lock and builds a key each
    time, a fifth of a fast-path answer's cost (routes are URL patterns, so the set stays small)."""
    method = method if method in KNOWN_METHODS else "other"  # before the key: a client's junk never grows it
    key = (route, method, status)
    children = _http_children.get(key)
    if children is None:
        children = (HTTP_REQUESTS.labels(route, method, str(status)), HTTP_LATENCY.labels(route, method))
        _http_children[key] = children
    children[0].inc()
    children[1].observe(time.perf_counter() - started)


def route_of(request) -> str:
    """A low-cardinality label for a request: its URL pattern (`races/<int:race_id>/`), never the raw path."""
    match = getattr(request, "resolver_match", None)
    return "unmatched" if match is None else route_label(match)


def route_label(match) -> str:
    """The label of a resolved URL (a `ResolverMatch`): its pattern, or its name where the pattern is a regex."""
    if match.route is not None:
        return "/" + match.route
    return "/" + (match.url_name or "unnamed")


def notification_counted(channel: str, outcome: str) -> None:
    NOTIFICATIONS.labels(channel, outcome).inc()
