"""Shared fixtures: personas, API clients, a clean cache per test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    # The cache is Redis on the PostgreSQL run: never let one test see another's entries (rate limits too).
    from core.memo import LocalMemo
    from core.realtime import trailing_cancel
    from races.feed.leaderboard import leaderboard_cache_clear

    cache.clear()
    leaderboard_cache_clear()  # also this process's memo of the cached leaderboards
    LocalMemo.forget_all()  # and of the VIP ladder, the experiment plans (core.memo)
    trailing_cancel()  # and no folded event of another test arrives in this one's sockets
    yield
    trailing_cancel()
    cache.clear()
    leaderboard_cache_clear()
    LocalMemo.forget_all()


class RatelimitClock:
    """The clock of the rate limiter (django-ratelimit's fixed windows), held still: a burst of requests never
    straddles a window's edge, which would split its count; `advance` moves to a later window on purpose."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def ratelimit_clock(monkeypatch) -> RatelimitClock:
    import django_ratelimit.core

    clock = RatelimitClock(1_700_000_000.0)
    monkeypatch.setattr(django_ratelimit.core, "time", clock)  # its only use of `time` is time.time()
    return clock


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    """Tasks run where they are sent, so a test sees their effect (the Redis broker path is tested on its own)."""
    from goatedvips.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 at production strength costs ~0.7 s a hash; tests that are about hashing opt back in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _archive_dir(settings, tmp_path_factory):
    # Retention on PostgreSQL copies rows to files before they go (core.partitions): never into the tree's var/.
    settings.RETENTION_ARCHIVE_DIR = tmp_path_factory.getbasetemp() / "archive"


@pytest.fixture
def password() -> str:
    return TEST_PASSWORD


@pytest.fixture
def player_user(db):
    """A signed-up player (no staff rights)."""
    return UserFactory(username="lucky", email="lucky@example.com")


@pytest.fixture
def verified_player(db):
    """A player rewards are for: email confirmed, Goated account linked and verified by staff."""
    from tests.factories import PlayerFactory

    player = PlayerFactory(name="VerifiedGoat", wager_all_time=Decimal("50000"))
    return UserFactory(
        username="goat", email="goat@example.com", email_verified=True, verification_status="verified", player=player
    )


@pytest.fixture
def verified_api(api_client, verified_player) -> APIClient:
    api_client.force_authenticate(verified_player)
    return api_client


@pytest.fixture
def other_user(db):
    """A second player, to prove one player never sees another's data."""
    return UserFactory(username="rival", email="rival@example.com")


@pytest.fixture
def staff_user(db):
    """An operator with every permission (superuser)."""
    return StaffFactory(username="boss", email="boss@example.com")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def player_api(api_client, player_user) -> APIClient:
    api_client.force_authenticate(player_user)
    return api_client


def pytest_report_header(config):
    """Say which database, cache and channel layer this run uses, so CI logs show both runs."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})",
        f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
        f"channel layer: {settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}",
    ]


@pytest.fixture
def vip_ladder(django_db_blocker):
    """The VIP tiers of the data migration, for transactional tests (their flush empties every table)."""
    import importlib

    from django.apps import apps

    with django_db_blocker.unblock():
        importlib.import_module("vip.migrations.0002_seed_vip_tiers").seed(apps, None)


@pytest.fixture(autouse=True)
def _close_executor_connections():
    """Close the DB connections that asgiref's shared sync_to_async thread opened (bot handlers, async tests):
    left open, PostgreSQL refuses to drop the test database at the end of the run."""
    yield
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(sync_to_async(connections.close_all)())
    # else: an event loop runs in this thread (browser tests): no executor connections of ours to close


@pytest.fixture
def tg(httpserver, settings):
    """The fake Bot API (a local HTTP server speaking Telegram's protocol), wired in as the bot's API."""
    from tests.telegram_bot.fake_telegram import TOKEN, install

    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_URL = httpserver.url_for("/").rstrip("/")
    settings.TELEGRAM_BOT_USERNAME = "GoatedVIPsBot"
    settings.REFERRAL_URL = "https://goated.example/r/VIP"
    return install(httpserver)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on localhost (aiosmtpd) that records what it receives; Django's SMTP backend talks to
    it. `smtp.url` is its EMAIL_URL for child processes."""
    from tests.smtp_server import SmtpServer

    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "notifications.email.SmtpBackend"  # what EMAIL_URL sets (goatedvips.settings)
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield server


@pytest.fixture
def clock_in_november_race():
    """The clock inside November 2026, where the engine tests' monthly race runs (tests/races/test_race_engine.py
    monthly_race): a race ends at its end_date whatever its status (WagerRace.has_ended), so joining or adjusting
    it needs a clock before that end."""
    from datetime import UTC, datetime

    import time_machine

    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=True):
        yield
