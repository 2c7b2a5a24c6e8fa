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
  older, one request goes through Django, which refreshes it for the next ones, while the others are sent the
  previous bytes (at most one second more).

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

from core import metrics
from core.logs import request_id_for
from goatedvips.edge import REQUEST_ID, allowed_host, is_secure, not_modified, redirects_plain_http
from races.api import LEADERBOARD_MAX_LIMIT as MAX_LIMIT
from races.feed.leaderboard import META_TTL_SECONDS, leaderboard_page_json_local
from races.models import LeaderboardPeriod

PATH = "/api/v1/leaderboard/"
MAX_OFFSET = 10_000_000
DEFAULTS = {"period": LeaderboardPeriod.MONTHLY.value, "limit": "25", "offset": "0"}
PERIODS = {p.value for p in LeaderboardPeriod}
_PLAIN_QUERY = re.compile(rb"^[A-Za-z0-9_=&]*$")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
# Headers that belong to one response, recomputed for each fast answer.
_PER_RESPONSE = {b"content-length", b"etag", REQUEST_ID, b"date", b"server"}
# Django's answer depends on these (conditional GETs beyond If-None-Match; cookies: a malformed CSRF cookie is
# replaced, a session may add Vary: Cookie). The site's own script fetches the leaderboard without cookies.
_DJANGO_ONLY = ("if-match", "if-modified-since", "if-unmodified-since", "if-range", "range", "cookie")


# A request's parts repeat (the same few queries, a client's Accept): each decision is remembered by its input.
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


class LeaderboardFastPath:
    """ASGI middleware: answers eligible leaderboard GETs itself, passes everything else to `app`."""

    def __init__(self, app):
        self.app = app
        # (status, secure) -> (Django's headers on this path without the per-response ones, whether it sent a
        # length). Secure and plain requests differ (HSTS is only sent over HTTPS).
        self.templates: dict[tuple[int, bool], tuple[list[tuple[bytes, bytes]], bool]] = {}
        self.served = 0  # fast answers (for tests and the bench)
        self.refreshing: set[str] = set()  # periods whose memory a request through Django is refreshing now

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = dict(scope["headers"])
        query = _query(scope.get("query_string", b""))
        secure = is_secure(headers, scope)
        eligible = (
            query is not None
            and not any(h.encode() in headers for h in _DJANGO_ONLY)
            and allowed_host(headers, scope)
            and (secure or not redirects_plain_http(PATH))  # else Django redirects to HTTPS
            and _accepts_json(headers)
        )
        body = leaderboard_page_json_local(*query) if eligible else None
        if eligible and body is None and query[0] in self.refreshing:
            # Another request is refreshing this period through Django: the previous bytes meanwhile, for at most
            # one more second (no stampede of Django requests each time the memory turns a second old).
            body = leaderboard_page_json_local(*query, max_age=2 * META_TTL_SECONDS)
        if body is not None:
            etag = _etag_remembered(body)
            status = 304 if not_modified(headers.get(b"if-none-match"), etag) else 200
            template = self.templates.get((status, secure))
            if template is not None:
                await self._send(send, status, template, body if status == 200 else b"", etag, headers)
                metrics.http_request_record(PATH, "GET", status, started)
                self.served += 1
                return None
        if not eligible:
            return await self.app(scope, receive, send)
        refresher = query[0] not in self.refreshing
        if refresher:
            self.refreshing.add(query[0])
        try:
            return await self.app(scope, receive, self._capturing(send, secure))
        finally:
            if refresher:
                self.refreshing.discard(query[0])

    async def _send(self, send, status, template, body, etag, headers) -> None:
        fixed, with_length = template
        request_id = request_id_for(headers.get(REQUEST_ID, b"").decode("latin-1"))
        out = [*fixed, (b"etag", etag.encode()), (REQUEST_ID, request_id.encode())]
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
