"""The leaderboard API's fast path: `GET /api/v1/leaderboard/` answered in front of Django from process memory.

The hottest endpoint of the site serves bytes that are already assembled (races.feed.leaderboard keeps the
rows of every period serialized in memory). Through Django those bytes cost a thread hop, 18 middleware and a
DRF view; here they cost a dict lookup. The fast path answers only what it can answer exactly as Django would,
and hands everything else to Django unchanged:

- a GET of exactly this path with nothing but `period`, `limit` and `offset`, each at most once, plain values that
  the API itself accepts (anything else — junk, a bad period, an out-of-range limit, an extra parameter —
  is Django's, which answers the documented 400);
- an allowed Host; HTTPS when Django's SecurityMiddleware would redirect this path to it (`SECURE_SSL_REDIRECT`,
  unless a `SECURE_REDIRECT_EXEMPT` pattern matches this path: the same rule, decided per path); an `Accept` that
  the API's JSON renderer satisfies; at most a plain `If-None-Match` as a conditional header; no cookies (API
  clients, overlays, proxies, and the site's own script, which fetches it with `credentials: "omit"`);
- data this process read from the cache less than a second ago (`leaderboard_page_json_local`); when it is
  older, the request goes through Django, which refreshes it for the next ones.

The headers of a fast answer are those of Django's last answer with the same status on this path (security
headers, CSP, Vary, Cache-Control, ...), captured as Django sends them, with the per-request ones (length, ETag,
request id) computed the same way. Until Django has answered once with a status, the fast path does not send
it. tests/races/test_fastpath.py checks 1,000 generated queries byte for byte against Django.
"""

from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host
from django.utils.http import parse_etags

from core import metrics
from core.logs import REQUEST_ID_HEADER, request_id_for
from races.api import LEADERBOARD_MAX_LIMIT as MAX_LIMIT
from races.feed.leaderboard import leaderboard_page_json_local
from races.models import LeaderboardPeriod

PATH = "/api/v1/leaderboard/"
MAX_OFFSET = 10_000_000
DEFAULTS = {"period": LeaderboardPeriod.MONTHLY.value, "limit": "25", "offset": "0"}
PERIODS = {p.value for p in LeaderboardPeriod}
_PLAIN_QUERY = re.compile(rb"^[A-Za-z0-9_=&]*$")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
# Headers that belong to one response, recomputed for each fast answer.
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_PER_RESPONSE = {b"content-length", b"etag", _REQUEST_ID, b"date", b"server"}
# Django's answer depends on these (conditional GETs beyond If-None-Match; cookies: a malformed CSRF cookie is
# replaced, a session may add Vary: Cookie). The site's own script fetches the leaderboard without cookies.
_DJANGO_ONLY = ("if-match", "if-modified-since", "if-unmodified-since", "if-range", "range", "cookie")


# A request's parts repeat (the same few queries, one Host, a client's Accept): each decision is remembered by its
# input. The ones that read settings are forgotten when a setting changes (tests override them).
@lru_cache(maxsize=1024)
def _query(raw: bytes) -> tuple[str, int, int] | None:
    """(period, limit, offset) for a query the API accepts, or None to let Django decide."""
    if not _PLAIN_QUERY.match(raw):
        return None
    values = dict(DEFAULTS)
    seen = set()
    for part in raw.decode().split("&") if raw else ():
        name, equals, value = part.partition("=")
        if not equals or name not in DEFAULTS or name in seen:
            return None
        seen.add(name)
        values[name] = value
    if values["period"] not in PERIODS:
        return None
    if not (_DIGITS.match(values["limit"]) and _DIGITS.match(values["offset"])):
        return None
    limit, offset = int(values["limit"]), int(values["offset"])
    if not (1 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET):
        return None
    return values["period"], limit, offset


def _allowed_host(headers: dict[bytes, bytes], scope: dict) -> bool:
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        return False  # Django's rules for forwarded hosts: let it decide
    host = headers.get(b"host")
    return host is not None and _host_allowed(host)


@lru_cache(maxsize=64)
def _host_allowed(host: bytes) -> bool:
    domain, _port = split_domain_port(host.decode("latin-1"))
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _is_secure(headers: dict[bytes, bytes], scope: dict) -> bool:
    """request.is_secure(), from the ASGI scope."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
        if name in headers:
            return headers[name].decode("latin-1").split(",")[0].strip() == proxy[1]
    return scope.get("scheme") == "https"


_exempt_memo: dict[tuple[str, ...], bool] = {}


def _redirects_plain_http() -> bool:
    """Whether Django's SecurityMiddleware redirects a plain-HTTP request for PATH to HTTPS: its own rule
    (`SECURE_SSL_REDIRECT`, and no `SECURE_REDIRECT_EXEMPT` pattern searching the path without its leading
    slash), decided for this one path and remembered per exemption list."""
    if not settings.SECURE_SSL_REDIRECT:
        return False
    patterns = tuple(settings.SECURE_REDIRECT_EXEMPT)
    if patterns not in _exempt_memo:
        _exempt_memo[patterns] = any(re.compile(p).search(PATH.lstrip("/")) for p in patterns)
    return not _exempt_memo[patterns]


def _accepts_json(headers: dict[bytes, bytes]) -> bool:
    accept = headers.get(b"accept")
    return True if accept is None else _accept_json(accept)


@lru_cache(maxsize=256)
def _accept_json(accept: bytes) -> bool:
    kinds = [part.split(b";")[0].strip() for part in accept.split(b",")]
    return b"q=0" not in accept.replace(b" ", b"") and (b"*/*" in kinds or b"application/json" in kinds)


def etag_of(body: bytes) -> str:
    """Django's ConditionalGetMiddleware ETag for a body (quoted md5 hex)."""
    return f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'


_etags: dict[bytes, str] = {}


def _etag_remembered(body: bytes) -> str:
    """etag_of, remembered for the bodies being served (a page's bytes stay the same until the next sync)."""
    etag = _etags.get(body)
    if etag is None:
        if len(_etags) >= 512:
            _etags.clear()
        etag = _etags[body] = etag_of(body)
    return etag


def _forget(**_kwargs) -> None:
    _host_allowed.cache_clear()
    _exempt_memo.clear()


setting_changed.connect(_forget, dispatch_uid="goatedvips.fastpath.settings")


def _not_modified(if_none_match: bytes | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = parse_etags(if_none_match.decode("latin-1"))
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


class LeaderboardFastPath:
    """ASGI middleware: answers eligible leaderboard GETs itself, passes everything else to `app`."""

    def __init__(self, app):
        self.app = app
        # (status, secure) -> (Django's headers on this path without the per-response ones, whether it sent a
        # length). Secure and plain requests differ (HSTS is only sent over HTTPS).
        self.templates: dict[tuple[int, bool], tuple[list[tuple[bytes, bytes]], bool]] = {}
        self.served = 0  # fast answers (for tests and the bench)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = dict(scope["headers"])
        query = _query(scope.get("query_string", b""))
        secure = _is_secure(headers, scope)
        eligible = (
            query is not None
            and not any(h.encode() in headers for h in _DJANGO_ONLY)
            and _allowed_host(headers, scope)
            and (secure or not _redirects_plain_http())  # else Django redirects to HTTPS
            and _accepts_json(headers)
        )
        body = leaderboard_page_json_local(*query) if eligible else None
        if body is not None:
            etag = _etag_remembered(body)
            status = 304 if _not_modified(headers.get(b"if-none-match"), etag) else 200
            template = self.templates.get((status, secure))
            if template is not None:
                await self._send(send, status, template, body if status == 200 else b"", etag, headers)
                metrics.http_request_record(PATH, "GET", status, started)
                self.served += 1
                return None
        if not eligible:
            return await self.app(scope, receive, send)
        return await self.app(scope, receive, self._capturing(send, secure))

    async def _send(self, send, status, template, body, etag, headers) -> None:
        fixed, with_length = template
        request_id = request_id_for(headers.get(_REQUEST_ID, b"").decode("latin-1"))
        out = [*fixed, (b"etag", etag.encode()), (_REQUEST_ID, request_id.encode())]
        if with_length:
            out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    def _capturing(self, send, secure: bool):
        """Django's answer to an eligible request: remember its headers as the template for its status."""

        async def capture(message):
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                names = [name.lower() for name, _ in message["headers"]]
                if b"set-cookie" not in names and names.count(b"etag") == 1:
                    fixed = [(name, value) for name, value in message["headers"] if name.lower() not in _PER_RESPONSE]
                    self.templates[(message["status"], secure)] = (fixed, b"content-length" in names)
            await send(message)

        return capture
