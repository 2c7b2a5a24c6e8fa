"""Run by tests/races/test_fastpath_production.py in a process of its own with the production settings (DEBUG=0,
HTTPS reported by the balancer's X-Forwarded-Proto, HSTS, the SSL redirect with its exemptions): the real ASGI
application, the fast path and the page cache in front of Django. Prints one JSON object of what it saw."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from tests.asgi_http import asgi_request as _call  # noqa: E402


def _comparable(headers: list) -> list:
    return sorted((k.decode().lower(), v.decode()) for k, v in headers if k.lower() not in (b"x-request-id",))


def setup() -> None:
    from races.feed.leaderboard import leaderboard_cache_refresh
    from races.models import Player

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # the pages name hashed static files
    Player.objects.bulk_create(
        [Player(uid=f"prod{i:04d}", name=f"Prod{i}", wager_month=1000 - i, wager_all_time=5000 - i) for i in range(40)]
    )
    leaderboard_cache_refresh()


async def main() -> dict:
    from goatedvips import asgi

    fast, pages, django_app = asgi.http_app, asgi.http_app.app, asgi.django_asgi_app
    https = [(b"host", b"goatedvips.example"), (b"x-forwarded-proto", b"https")]
    plain = [(b"host", b"goatedvips.example")]
    query = b"period=monthly&limit=5"
    first = await _call(fast, "/api/v1/leaderboard/", https, query)  # Django answers; the fast path learns
    served_before = fast.served
    again = await _call(fast, "/api/v1/leaderboard/", https, query)
    reference = await _call(django_app, "/api/v1/leaderboard/", https, query)
    redirect_fast = await _call(fast, "/api/v1/leaderboard/", plain, query)
    redirect_django = await _call(django_app, "/api/v1/leaderboard/", plain, query)
    health = await _call(fast, "/healthz", plain)
    await _call(fast, "/leaderboard/", https)  # Django renders; the page cache keeps it
    page = await _call(fast, "/leaderboard/", https)
    page_reference = await _call(django_app, "/leaderboard/", https)
    return {
        "debug": __import__("django.conf").conf.settings.DEBUG,
        "first_status": first[0],
        "fast_answered": fast.served - served_before,
        "same_status": again[0] == reference[0],
        "same_body": again[2] == reference[2],
        "same_headers": _comparable(again[1]) == _comparable(reference[1]),
        "hsts": dict(_comparable(again[1])).get("strict-transport-security", ""),
        "redirect": [redirect_fast[0], dict(_comparable(redirect_fast[1])).get("location", "")],
        "redirect_same": redirect_fast[0] == redirect_django[0] and redirect_fast[2] == redirect_django[2],
        "served_after_redirect": fast.served - served_before,
        "health": health[0],
        "pages_served": pages.served,
        "page_same": [
            page[0],
            page_reference[0],
            page[2] == page_reference[2],
            _comparable(page[1]) == _comparable(page_reference[1]),
        ],
    }


if __name__ == "__main__":
    setup()
    json.dump(asyncio.run(main()), sys.stdout)
