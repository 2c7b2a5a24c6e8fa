"""The leaderboard API's fast path (goatedvips/fastpath.py) answers byte for byte as Django does.

1,000 generated requests — valid pages of every period, and junk: bad limits and offsets, unknown periods,
repeated and extra parameters, percent-encoding, NUL bytes, odd Accept and Host headers, conditional requests —
each sent through the fast path and straight to Django, through the real ASGI handler: the same status, body
and headers (the request id aside, which is new each time).
"""

from __future__ import annotations

import asyncio
import random
import re

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from goatedvips.fastpath import PATH, LeaderboardFastPath, etag_of
from races.feed.leaderboard import leaderboard_cache_refresh, leaderboard_page_json
from tests.races.test_around import make_players

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

HOST = [(b"host", b"testserver")]


async def call(app, query: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": PATH, "raw_path": PATH.encode(), "root_path": "", "query_string": query, "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    # The browsable API's HTML page (an error asked for with a browser's Accept) embeds a fresh CSRF token, and
    # its ETag hashes it: mask both. Never in a JSON answer, which must match to the byte.
    body, masked = re.subn(rb'"csrfToken": "[A-Za-z0-9]+"', b'"csrfToken": "(new)"', body)
    found: dict[bytes, list[bytes]] = {}
    for name, value in start["headers"]:
        if name.lower() == b"set-cookie":  # a new CSRF cookie is random each time, and dated to the second
            value = re.sub(rb"^csrftoken=[A-Za-z0-9]+; expires=[^;]+;", b"csrftoken=(new); expires=(a year on);", value)
        found.setdefault(name.lower(), []).append(value)
    if masked:
        found[b"etag"] = [b"(hash of the page)"]
    return start["status"], found, body


def queries(rng: random.Random, etags: list[str]) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    periods = ["today", "weekly", "monthly", "all_time"]
    junk_values = ["", "0", "-1", "101", "+5", " 5", "5.0", "1e3", "٥", "abc", "99999999999", "10000001",
                   "0x10", "%00", "5%00", "NaN", "007"]  # fmt: skip
    junk_periods = ["", "Weekly", "yearly", "all-time", "monthly%00", "week%6Cy", "%F0%9F%90%90", "monthly "]
    made = []
    for _i in range(1_000):
        kind = rng.random()
        params: list[str] = []
        if kind < 0.55:  # valid, in any order, some parameters left to their defaults
            if rng.random() < 0.8:
                params.append(f"period={rng.choice(periods)}")
            if rng.random() < 0.8:
                params.append(f"limit={rng.randint(1, 100)}")
            if rng.random() < 0.7:
                params.append(f"offset={rng.choice([0, 0, 1, rng.randint(0, 400), rng.randint(0, 10_000_000)])}")
            rng.shuffle(params)
        elif kind < 0.75:  # one bad value among good ones
            params = [f"period={rng.choice(periods)}", f"limit={rng.randint(1, 100)}", "offset=0"]
            slot = rng.randrange(3)
            bad = rng.choice(junk_periods) if slot == 0 else rng.choice(junk_values)
            params[slot] = params[slot].split("=")[0] + "=" + bad.replace(" ", "%20")
        elif kind < 0.9:  # extra, repeated, empty or malformed parameters
            params = [f"period={rng.choice(periods)}"]
            params.append(rng.choice(["limit=5&limit=6", "extra=1", "period", "=5", "&", "limit=5&", "_=1700000000",
                                      "offset=1&offset=1", "callback=x", "limit"]))  # fmt: skip
        else:  # raw junk
            params = [rng.choice(["%%%", "a=%ZZ", "period=monthly;limit=5", "limit=%00", "q=%C0%AF", "\u00e9=1"])]
        headers = list(HOST)
        flavour = rng.random()
        if flavour < 0.08:
            headers.append((b"if-none-match", rng.choice([*etags, '"stale"', "*", 'W/"nope"']).encode()))
        elif flavour < 0.14:
            accept = rng.choice([b"image/png", b"text/html,application/xhtml+xml,*/*;q=0.8", b"application/json",
                                 b"text/plain", b"application/json;q=0", b"*/*"])  # fmt: skip
            headers.append((b"accept", accept))
        elif flavour < 0.17:
            headers = [(b"host", rng.choice([b"evil.example", b"testserver:8000", b"bad host", b"localhost"]))]
        elif flavour < 0.2:
            headers.append((b"cookie", b"sessionid=not-a-session; csrftoken=abc"))
        elif flavour < 0.22:
            headers.append((b"if-modified-since", b"Mon, 30 Nov 2026 00:00:00 GMT"))
        elif flavour < 0.4:  # behind a TLS proxy (HSTS only over HTTPS)
            headers.append((b"x-forwarded-proto", rng.choice([b"https", b"http", b"https, http"])))
        elif flavour < 0.43:  # API credentials: a bad token is DRF's 401, never the public page
            headers.append(
                (b"authorization", rng.choice([b"Token not-a-token", b"Bearer nope", b"Basic Zm9vOmJhcg=="]))
            )
        made.append(("&".join(params).encode("utf-8"), headers))
    return made


async def test_a_thousand_requests_answer_the_same_through_the_fast_path_and_through_django(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    await sync_to_async(make_players)(300)
    await sync_to_async(leaderboard_cache_refresh)()
    django_app = get_asgi_application()
    fast = LeaderboardFastPath(django_app)
    etags = [etag_of(await sync_to_async(leaderboard_page_json)(period, 25, 0)) for period in ("monthly", "weekly")]
    statuses: dict[int, int] = {}
    for query, headers in queries(random.Random(2026), etags):
        fast_status, fast_headers, fast_body = await call(fast, query, headers)
        status, django_headers, body = await call(django_app, query, headers)
        where = f"{query!r} {headers!r}"
        assert fast_status == status, where
        assert fast_body == body, where
        assert fast_headers.pop(b"x-request-id", None) is not None
        django_headers.pop(b"x-request-id", None)
        assert fast_headers == django_headers, where
        statuses[status] = statuses.get(status, 0) + 1
    assert fast.served >= 300  # most valid requests were the fast path's own
    assert set(statuses) >= {200, 304, 400}, statuses


async def test_the_fast_path_answers_with_the_documented_cache_headers_and_a_304():
    await sync_to_async(make_players)(30)
    fast = LeaderboardFastPath(get_asgi_application())
    first = await call(fast, b"period=weekly&limit=10", HOST)  # Django's: it teaches the fast path the headers
    second = await call(fast, b"period=weekly&limit=10", HOST)
    assert fast.served == 1
    assert first[0] == second[0] == 200
    assert first[2] == second[2]
    assert second[1][b"cache-control"] == [b"public, no-cache"]
    etag = second[1][b"etag"][0]
    assert etag.decode() == etag_of(second[2])
    await call(fast, b"period=weekly&limit=10", [*HOST, (b"if-none-match", etag)])  # Django's first 304
    status, headers, body = await call(fast, b"period=weekly&limit=10", [*HOST, (b"if-none-match", etag)])
    assert (status, body) == (304, b"")
    assert fast.served == 2
    assert headers[b"etag"] == [etag]


class Gate:
    """Stands in front of Django and holds each request until opened: a slow Django answer."""

    def __init__(self, app):
        self.app, self.open, self.seen = app, asyncio.Event(), 0
        self.open.set()

    async def __call__(self, scope, receive, send):
        self.seen += 1
        await self.open.wait()
        return await self.app(scope, receive, send)


async def test_while_one_request_refreshes_the_memory_the_others_get_the_previous_bytes():
    await sync_to_async(make_players)(30)
    gate = Gate(get_asgi_application())
    fast = LeaderboardFastPath(gate)
    first = await call(fast, b"period=weekly&limit=10", HOST)  # Django's: it teaches the fast path the headers
    await call(fast, b"period=weekly&limit=10", HOST)
    assert (gate.seen, fast.served) == (1, 1)
    await asyncio.sleep(1.05)  # the memory is older than a second now
    gate.open.clear()
    refresh = asyncio.create_task(call(fast, b"period=weekly&limit=10", HOST))
    await asyncio.sleep(0.05)
    meanwhile = [await call(fast, b"period=weekly&limit=10", HOST) for _ in range(5)]
    assert (gate.seen, fast.served) == (2, 6)  # one request through Django, five from the previous bytes
    assert all(answer[2] == first[2] for answer in meanwhile)
    gate.open.set()
    assert (await refresh)[2] == first[2]
