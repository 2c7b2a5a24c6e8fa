"""Rate limits: which client address the site's limits count against, the one brake per username that every
password entry point shares, and the same counter for callers that have no HTTP request (the Telegram bot).

X-Forwarded-For is only believed for the number of proxy hops we run ourselves (TRUSTED_PROXY_HOPS): the
right-most entries are written by our proxies, anything left of them is client-controlled and spoofable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage, is_ratelimited
from django_ratelimit.exceptions import Ratelimited

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


# Every place a password is typed (site sign-in, admin sign-in, POST /api/v1/auth/token/, the admin's password
# change) counts against one bucket per username, whatever the address: a guesser spread over many addresses, or
# over several entry points, gets GUESS_RATE tries at that account in all. Every POST counts, right or wrong,
# so the right password is refused too until the window passes.
GUESS_RATE = "10/m"
GUESS_GROUP = "password-username"


def password_brake(request: HttpRequest, username: str) -> None:
    """Count one password attempt at `username`; raise Ratelimited (the site's 429 page, or the API's 429 JSON:
    the same message everywhere) from the attempt after GUESS_RATE in a window."""
    bucket = (username or "").strip().casefold()  # "Admin" and "admin " are the same account to a guesser
    if is_ratelimited(request, group=GUESS_GROUP, key=lambda _group, _request: bucket, rate=GUESS_RATE, increment=True):
        raise Ratelimited()


def password_braked(username_of: Callable[[HttpRequest], str]):
    """Decorate a view that takes a password by POST: `username_of(request)` names the account it is tried at."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method == "POST":
                password_brake(request, username_of(request))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def posted_username(request: HttpRequest) -> str:
    """The username field of a sign-in form."""
    return request.POST.get("username", "")
