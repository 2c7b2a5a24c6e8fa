"""The request rules shared by the layers that answer in front of Django (goatedvips/fastpath.py,
goatedvips/pagecache.py): each is Django's own rule, read from the ASGI scope, so a request these layers answer
is one Django would have answered the same way. Decisions that read settings are remembered by their input and
forgotten when a setting changes (tests override them)."""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host
from django.utils.http import parse_etags

from core.logs import REQUEST_ID_HEADER

REQUEST_ID = REQUEST_ID_HEADER.lower().encode()


def allowed_host(headers: dict[bytes, bytes], scope: dict) -> bool:
    """Whether Django's ALLOWED_HOSTS check passes (a forwarded host is left to Django)."""
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        return False
    host = headers.get(b"host")
    return host is not None and _host_allowed(host)


@lru_cache(maxsize=64)
def _host_allowed(host: bytes) -> bool:
    domain, _port = split_domain_port(host.decode("latin-1"))
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def is_secure(headers: dict[bytes, bytes], scope: dict) -> bool:
    """request.is_secure(), from the ASGI scope."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        if name in headers:
            return headers[name].decode("latin-1").split(",")[0].strip() == proxy[1]
    return scope.get("scheme") == "https"


@lru_cache(maxsize=256)
def redirects_plain_http(path: str) -> bool:
    """Whether Django's SecurityMiddleware redirects a plain-HTTP request for `path` to HTTPS: its own rule
    (`SECURE_SSL_REDIRECT`, and no `SECURE_REDIRECT_EXEMPT` pattern searching the path without its leading
    slash), decided per path."""
    if not settings.SECURE_SSL_REDIRECT:
        return False
    return not any(re.compile(p).search(path.lstrip("/")) for p in settings.SECURE_REDIRECT_EXEMPT)


def not_modified(if_none_match: bytes | None, etag: str) -> bool:
    """ConditionalGetMiddleware's If-None-Match rule (weak comparison, `*` matches)."""
    if if_none_match is None:
        return False
    tags = parse_etags(if_none_match.decode("latin-1"))
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def _forget(**_kwargs) -> None:
    _host_allowed.cache_clear()
    redirects_plain_http.cache_clear()


setting_changed.connect(_forget, dispatch_uid="goatedvips.edge.settings")
