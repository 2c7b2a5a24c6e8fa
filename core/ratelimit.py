"""Rate limits: which client address the site's limits count against, and the same counter for callers that
have no HTTP request (the Telegram bot).

X-Forwarded-For is only believed for the number of proxy hops we run ourselves (TRUSTED_PROXY_HOPS): the
right-most entries are written by our proxies, anything left of them is client-controlled and spoofable.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

# Requests whose address cannot be read share one bucket: stricter, never unlimited.
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 (a bucket name, not a bind address)


def _valid(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            ip = _valid(forwarded[-hops])
            if ip:
                return ip
    return _valid(request.META.get("REMOTE_ADDR") or "") or UNKNOWN_CLIENT


def rate_count(group: str, key: str, rate: str) -> int | None:
    """Count one event of `key` against `rate` ("20/m", "10/5s") with django-ratelimit's own counter: the same
    cache (RATELIMIT_USE_CACHE), windows and cache keys as the site's @ratelimit, for a caller without an
    HttpRequest. Returns how many events `key` has in the current window, this one included; None when nothing
    could be counted (RATELIMIT_ENABLE off, or the cache unreachable), and the caller decides what that means."""
    try:
        usage = get_usage(None, group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    except Exception:  # the cache is down: django-ratelimit lets a connection error through
        return None
    if usage is None or usage["count"] == 0:  # 0 with increment=True is django-ratelimit's "could not count"
        return None
    return usage["count"]
