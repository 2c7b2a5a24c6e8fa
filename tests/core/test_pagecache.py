"""The page cache for anonymous visitors (goatedvips/pagecache.py): the same bytes and headers as Django, only for
requests and answers that are the same for everyone, fresh within PAGE_CACHE_SECONDS, one render at a time.

Byte-for-byte checks run against the real Django ASGI application; the refusal rules for answers Django would
rarely give (a cookie set on a page, `Vary: *`, a streamed body) are checked with a small ASGI app standing in
for a view that gives them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.utils import timezone

from goatedvips.pagecache import AnonymousPageCache
from races.feed.leaderboard import leaderboard_cache_refresh
from races.models import Player, WagerRace
from tests.asgi_http import asgi_request
from tests.factories import WagerRaceFactory
from tests.races.test_around import make_players

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

HOST = [(b"host", b"testserver")]


async def call(app, path: str, headers=HOST, query: bytes = b"", method: str = "GET") -> tuple[int, dict, bytes]:
    status, sent, body = await asgi_request(app, path, headers, query, method)
    found: dict[bytes, list[bytes]] = {}
    for name, value in sent:
        found.setdefault(name.lower(), []).append(value)
    return status, found, body


def same(cached, reference) -> None:
    """The cached answer is Django's: status, body and every header but the request id (new each time)."""
    assert cached[0] == reference[0]
    assert cached[2] == reference[2]
    ours, theirs = dict(cached[1]), dict(reference[1])
    assert ours.pop(b"x-request-id") != theirs.pop(b"x-request-id")
    assert ours == theirs


@pytest.fixture
def seeded(db):
    make_players(60)
    now = timezone.now()
    race = WagerRaceFactory(status=WagerRace.Status.LIVE, start_date=now - timedelta(days=1))
    leaderboard_cache_refresh()
    return race


async def test_each_page_is_django_s_answer_sent_again(seeded, settings):
    settings.PAGE_CACHE_SECONDS = 60
    race = await sync_to_async(lambda: seeded)()
    django_app = get_asgi_application()
    cache = AnonymousPageCache(django_app)
    pages = [("/", b""), ("/leaderboard/", b""), ("/leaderboard/", b"period=weekly"), ("/races/", b""),
             (f"/races/{race.pk}/", b"")]  # fmt: skip
    for path, query in pages:
        first = await call(cache, path, query=query)
        assert first[0] == 200, path
        served = cache.served
        again = await call(cache, path, query=query)
        assert cache.served == served + 1, f"{path}?{query!r} was not sent from memory"
        same(again, await call(django_app, path, query=query))
        same(again, first)
    assert cache.served == len(pages)


async def test_a_304_is_django_s_304_and_a_changed_page_has_a_new_etag(seeded, settings):
    settings.PAGE_CACHE_SECONDS = 60
    django_app = get_asgi_application()
    cache = AnonymousPageCache(django_app)
    page = await call(cache, "/leaderboard/")
    etag = page[1][b"etag"][0]
    conditional = [*HOST, (b"if-none-match", etag)]
    first = await call(cache, "/leaderboard/", conditional)  # Django's 304 teaches the cache its headers
    assert first[0] == 304
    assert cache.served == 0
    again = await call(cache, "/leaderboard/", conditional)
    assert cache.served == 1
    same(again, await call(django_app, "/leaderboard/", conditional))
    stale = await call(cache, "/leaderboard/", [*HOST, (b"if-none-match", b'"an-old-version"')])
    assert stale[0] == 200
    assert stale[2] == page[2]


async def test_visitors_with_cookies_or_credentials_always_reach_django(seeded, settings):
    settings.PAGE_CACHE_SECONDS = 60
    cache = AnonymousPageCache(get_asgi_application())
    await call(cache, "/")
    for extra in [(b"cookie", b"sessionid=abc"), (b"cookie", b"csrftoken=abc"), (b"authorization", b"Token x"),
                  (b"if-modified-since", b"Mon, 30 Nov 2026 00:00:00 GMT"), (b"range", b"bytes=0-10")]:  # fmt: skip
        status, _headers, _body = await call(cache, "/", [*HOST, extra])
        assert status in (200, 206), extra
    assert cache.served == 0
    assert (await call(cache, "/", [(b"host", b"evil.example")]))[0] == 400  # Django's DisallowedHost answer
    assert (await call(cache, "/", method="HEAD"))[0] == 200
    assert (await call(cache, "/accounts/login/"))[0] == 200  # not a cached page: rendered with a CSRF cookie
    assert cache.served == 0


async def test_plain_http_is_redirected_by_django_where_it_would_be(seeded, settings):
    settings.PAGE_CACHE_SECONDS = 60
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    cache = AnonymousPageCache(get_asgi_application())
    https = [*HOST, (b"x-forwarded-proto", b"https")]
    await call(cache, "/leaderboard/", https)
    cached = await call(cache, "/leaderboard/", https)
    assert cache.served == 1
    assert cached[1][b"strict-transport-security"]
    plain = await call(cache, "/leaderboard/")
    assert plain[0] == 301
    assert plain[1][b"location"] == [b"https://testserver/leaderboard/"]
    assert cache.served == 1


async def test_a_page_older_than_its_seconds_is_rendered_again_with_the_new_data(seeded, settings):
    settings.PAGE_CACHE_SECONDS = 2  # long enough for the data change below on a busy machine
    cache = AnonymousPageCache(get_asgi_application())
    before = await call(cache, "/leaderboard/")
    await sync_to_async(Player.objects.filter(uid="p000059").update)(name="FreshlyRenamed")
    await sync_to_async(leaderboard_cache_refresh)()
    assert b"FreshlyRenamed" not in (await call(cache, "/leaderboard/"))[2]  # within its time: the kept page
    await asyncio.sleep(2.05)
    after = await call(cache, "/leaderboard/")
    assert b"FreshlyRenamed" in after[2]
    assert after[1][b"etag"] != before[1][b"etag"]


class Standin:
    """An ASGI app standing in for a view: answers with the given headers and counts the requests it saw; with
    `gate`, each request waits for it (a slow render)."""

    def __init__(self, headers, *, status=200, chunks=(b"page",), gate: asyncio.Event | None = None):
        self.headers, self.status, self.chunks, self.gate, self.seen = headers, status, chunks, gate, 0

    async def __call__(self, scope, receive, send):
        self.seen += 1
        if self.gate is not None:
            await self.gate.wait()
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        for i, chunk in enumerate(self.chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(self.chunks) - 1})


ETAG = (b"ETag", b'"v1"')


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([ETAG, (b"Set-Cookie", b"messages=x; Path=/")], 200),
        ([ETAG, (b"Cache-Control", b"private")], 200),
        ([ETAG, (b"Cache-Control", b"max-age=0, no-store")], 200),
        ([ETAG, (b"Vary", b"Cookie, *")], 200),
        ([(b"Content-Type", b"text/html")], 200),  # no ETag
        ([ETAG, ETAG], 200),
        ([ETAG], 404),
        ([ETAG], 500),
    ],
)
async def test_answers_that_are_not_the_same_for_everyone_are_never_kept(settings, headers, status):
    settings.PAGE_CACHE_SECONDS = 60
    view = Standin(headers, status=status)
    cache = AnonymousPageCache(view)
    for _ in range(3):
        assert (await call(cache, "/"))[0] == status
    assert view.seen == 3
    assert cache.served == 0


async def test_a_body_sent_in_parts_is_kept_whole_and_a_vary_header_splits_the_key(settings):
    settings.PAGE_CACHE_SECONDS = 60
    view = Standin([ETAG, (b"Vary", b"Accept-Language")], chunks=(b"one ", b"two ", b"three"))
    cache = AnonymousPageCache(view)
    english = [*HOST, (b"accept-language", b"en")]
    assert (await call(cache, "/", english))[2] == b"one two three"
    assert (await call(cache, "/", english))[2] == b"one two three"
    assert view.seen == 1
    await call(cache, "/", [*HOST, (b"accept-language", b"de")])  # another language: Django's
    await call(cache, "/", HOST)
    assert view.seen == 3


async def test_one_request_renders_an_expired_page_while_the_others_get_the_previous_answer(settings):
    settings.PAGE_CACHE_SECONDS = 0.2
    view = Standin([ETAG])
    cache = AnonymousPageCache(view)
    await call(cache, "/races/")
    await asyncio.sleep(0.25)
    view.gate = asyncio.Event()
    render = asyncio.create_task(call(cache, "/races/"))  # expired: this one goes to the view and waits there
    await asyncio.sleep(0.05)
    waiting = [await call(cache, "/races/") for _ in range(5)]  # meanwhile: the previous answer, no new render
    assert [status for status, _h, _b in waiting] == [200] * 5
    assert view.seen == 2
    assert cache.served == 5
    view.gate.set()
    assert (await render)[0] == 200
    await asyncio.sleep(0.45)  # beyond its second of grace: a request renders again and waits for its answer
    view.gate = None
    await call(cache, "/races/")
    assert view.seen == 3


async def test_paths_outside_the_cached_pages_and_other_methods_pass_through(settings):
    settings.PAGE_CACHE_SECONDS = 60
    view = Standin([ETAG])
    cache = AnonymousPageCache(view)
    for path in ["/faq/", "/races/current/", "/races/1/join/", "/players/p1/", "/api/v1/races/", "/races/x/"]:
        await call(cache, path)
        await call(cache, path)
    await call(cache, "/", method="POST")
    assert cache.served == 0
    assert view.seen == 13
