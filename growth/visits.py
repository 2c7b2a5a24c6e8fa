"""Site visits for the funnel's first step: full HTML pages a person loaded, per UTC day, with unique visitors
estimated like the referral clicks' (growth.services: a daily-keyed hash kept only in the cache).

A page view costs no database write: it is counted in the cache (`incr`, atomic in Redis and in the embedded
mode's local-memory cache), and `visit_counts_flush` (every minute, on the beat) moves the counts into
`VisitDay` by adding what it takes away from the cache. Pages the page cache answers in front of Django
(goatedvips.pagecache: the same page to cookieless visitors within a second) are not counted: an undercount
under bursts, documented in docs/analytics.md, "Funnel".
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.ratelimit import client_ip
from growth.models import VisitDay
from growth.selectors import click_countable
from growth.services import SEEN_SECONDS, _visitor_hash

logger = logging.getLogger(__name__)

NOT_PAGES = ("/admin/", "/api/", "/overlay/", "/go/", "/static/", "/media/", "/metrics", "/healthz", "/readyz",
             "/ws/")  # fmt: skip
FIELDS = ("page_views", "unique_visitors")


def _key(day: date, field: str) -> str:
    return f"growth:visits:{day.isoformat()}:{field}"


def visit_countable(request: HttpRequest, response: HttpResponse) -> bool:
    """A person's full page load: a GET answered 200 with HTML, outside the back office, the API, overlays and
    files, by a browser that is not a crawler or a prefetch, and not staff browsing their own site."""
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return False
    if request.path.startswith(NOT_PAGES) or not click_countable(request.method, request.headers):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated and user.is_staff)


def visit_record(visitor: str, now: datetime | None = None) -> None:
    """Count one page view (and a unique visitor at the first sighting of the day). Never raises."""
    day = (now or timezone.now()).astimezone(UTC).date()
    try:
        fresh = cache.add(f"growth:seen-visit:{day.isoformat()}:{_visitor_hash(day, visitor)}", 1, SEEN_SECONDS)
        for field, add in (("page_views", True), ("unique_visitors", fresh)):
            if add:
                cache.add(_key(day, field), 0, SEEN_SECONDS)
                cache.incr(_key(day, field))
    except Exception:
        logger.exception("page view not counted")


def visit_counts_flush(now: datetime | None = None) -> int:
    """Move the cache's counts of yesterday and today into VisitDay (safe to run twice: a count taken from the
    cache is added once). Returns the page views moved."""
    today = (now or timezone.now()).astimezone(UTC).date()
    moved = 0
    for day in (today - timedelta(days=1), today):
        taken = {}
        for field in FIELDS:
            value = int(cache.get(_key(day, field)) or 0)
            if value:
                cache.decr(_key(day, field), value)  # what arrives meanwhile stays for the next flush
            taken[field] = value
        if any(taken.values()):
            _add(day, taken)
            moved += taken["page_views"]
    return moved


def _add(day: date, taken: dict[str, int]) -> None:
    rows = VisitDay.objects.filter(day=day)
    increments = {field: F(field) + value for field, value in taken.items()}
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            VisitDay.objects.create(day=day, **taken)
    except IntegrityError:
        rows.update(**increments)


class VisitCountMiddleware:
    """Counts the public site's page views (growth.visits). Cache operations only: no database query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if visit_countable(request, response):
            visit_record(f"{client_ip(request)}\n{request.headers.get('User-Agent', '')}")
        return response
