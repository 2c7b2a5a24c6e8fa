"""Whole pages for anonymous visitors, answered in front of Django from process memory for up to a second.

The pages players load most — home, `/leaderboard/`, `/races/` and a race page — are the same bytes for every
visitor who is not signed in. Rendering them costs a thread hop, 18 middleware, a template and a few cache reads
(≈ 2.4 ms); this ASGI layer keeps Django's last answer for a page and sends it again, exactly:

- only a GET of one of those paths (any query: the query is part of the key) with **no cookie** and no
  `Authorization` (a signed-in visitor, or one with a CSRF or message cookie, always goes through Django), no
  conditional header but `If-None-Match`, an allowed Host, and HTTPS where Django would redirect plain HTTP
  (the same per-path rule as the leaderboard fast path);
- only an answer Django gave such a request: a 200 with one ETag, no `Set-Cookie`, no `Vary: *`, nothing in
  `Cache-Control` that forbids sharing (`private`, `no-store`, `no-cache`), sent in full (not streamed); it is
  kept per (path, query, Host, scheme) with the request's values of every header its `Vary` names, and reused
  only for a request whose values are the same;
- for `PAGE_CACHE_SECONDS` (default 1 s). When a page is older, one request goes through Django to refresh it
  while the others are still sent the previous answer, at most `PAGE_CACHE_SECONDS` more (no stampede of
  renders when a popular page expires);
- `If-None-Match` naming the page's ETag is answered 304 with the headers Django sent for that page's 304
  (captured the same way; until Django has answered one, Django answers it).

Per response, only the request id is new (as Django's RequestIdMiddleware would make it). The answers are counted
in the same request metrics as Django's, under the page's URL pattern. tests/core/test_pagecache.py checks the
cached answers byte for byte against Django's, and every way a request or an answer is refused.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.urls import Resolver404, resolve

from core import metrics
from core.logs import request_id_for
from goatedvips.edge import REQUEST_ID, allowed_host, is_secure, not_modified, redirects_plain_http

PATHS = re.compile(r"^/(?:leaderboard/|races/|races/[0-9]{1,9}/)?$")
MAX_ENTRIES = 256
# Anything that makes Django's answer personal or conditional beyond If-None-Match: Django's.
_PERSONAL = (b"cookie", b"authorization", b"if-match", b"if-modified-since", b"if-unmodified-since", b"range")
_UNSHAREABLE = re.compile(rb"\b(?:private|no-store|no-cache)\b", re.IGNORECASE)


@dataclass
class Page:
    """Django's answer to one anonymous GET, and what it depends on."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    vary: dict[bytes, bytes | None]  # the request's value of every header the answer's Vary names
    route: str
    expires: float
    refreshing: bool = False
    not_modified: list[tuple[bytes, bytes]] | None = None  # Django's 304 headers for this ETag, once seen

    def fits(self, headers: dict[bytes, bytes]) -> bool:
        return all(headers.get(name) == value for name, value in self.vary.items())


def _route(path: str) -> str:
    try:
        return metrics.route_label(resolve(path))
    except Resolver404:  # pragma: no cover - PATHS only admits routed paths
        return "unmatched"


def _vary_names(headers: list[tuple[bytes, bytes]]) -> list[bytes] | None:
    """The request headers an answer varies on, or None for `Vary: *` (never the same answer twice)."""
    names: list[bytes] = []
    for name, value in headers:
        if name.lower() == b"vary":
            for part in value.split(b","):
                part = part.strip().lower()
                if part == b"*":
                    return None
                if part:
                    names.append(part)
    return names


def _shareable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    names = [name.lower() for name, _ in headers]
    if status != 200 or b"set-cookie" in names or names.count(b"etag") != 1:
        return False
    control = b",".join(value for name, value in headers if name.lower() == b"cache-control")
    return not _UNSHAREABLE.search(control)


class AnonymousPageCache:
    """ASGI middleware: answers anonymous GETs of the hottest pages from Django's last answer, passes the rest."""

    def __init__(self, app):
        self.app = app
        self.pages: OrderedDict[tuple, Page] = OrderedDict()
        self.served = 0  # answers sent from memory (for tests and the bench)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        if not PATHS.match(path):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = dict(scope["headers"])
        secure = is_secure(headers, scope)
        if (
            any(name in headers for name in _PERSONAL)
            or not allowed_host(headers, scope)
            or (not secure and redirects_plain_http(path))
        ):
            return await self.app(scope, receive, send)
        key = (path, scope.get("query_string", b""), headers.get(b"host"), secure)
        page = self.pages.get(key)
        refresher = False
        if page is not None and page.fits(headers):
            now = time.monotonic()
            if now < page.expires or (page.refreshing and now < page.expires + settings.PAGE_CACHE_SECONDS):
                status = await self._answer(send, page, headers)
                if status:
                    metrics.http_request_record(page.route, "GET", status, started)
                    return None
            elif not page.refreshing:
                # This request renders the page again; the others keep the previous answer meanwhile.
                page.refreshing = refresher = True
        try:
            return await self.app(scope, receive, self._capturing(send, key, path, headers, page))
        finally:
            if refresher:
                page.refreshing = False

    async def _answer(self, send, page: Page, headers: dict[bytes, bytes]) -> int:
        """Send the page, or its 304 when the client has it: the status sent, or 0 when only Django can answer (a
        304 not seen yet)."""
        if not_modified(headers.get(b"if-none-match"), page.etag):
            if page.not_modified is None:
                return 0
            status, template, body = 304, page.not_modified, b""
        else:
            status, template, body = 200, page.headers, page.body
        request_id = request_id_for(headers.get(REQUEST_ID, b"").decode("latin-1")).encode()
        out = [(name, request_id if name.lower() == REQUEST_ID else value) for name, value in template]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})
        self.served += 1
        return status

    def _capturing(self, send, key: tuple, path: str, request: dict[bytes, bytes], previous: Page | None):
        """Django's answer, passed on as it goes and kept when it may be shared."""
        state: dict = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                state["status"], state["headers"], state["body"] = message["status"], message["headers"], []
            elif message["type"] == "http.response.body" and "body" in state:
                state["body"].append(message.get("body", b""))
                if not message.get("more_body"):
                    self._keep(key, path, request, previous, state)
            await send(message)

        return capture

    def _keep(self, key: tuple, path: str, request: dict, previous: Page | None, state: dict) -> None:
        status, headers = state["status"], list(state["headers"])
        etag = next((value.decode("latin-1") for name, value in headers if name.lower() == b"etag"), None)
        if status == 304 and previous is not None and etag == previous.etag:
            previous.not_modified = headers
            return
        vary = _vary_names(headers)
        if vary is None or not _shareable(status, headers):
            return
        page = Page(
            headers=headers, body=b"".join(state["body"]), etag=etag, route=_route(path),
            vary={name: request.get(name) for name in vary},
            expires=time.monotonic() + settings.PAGE_CACHE_SECONDS,
        )  # fmt: skip
        if previous is not None and previous.etag == etag:
            page.not_modified = previous.not_modified  # same bytes, same 304
        self.pages.pop(key, None)
        self.pages[key] = page
        while len(self.pages) > MAX_ENTRIES:
            self.pages.popitem(last=False)
