"""A Redis outage (a failover in progress) on the error path: the 500 page itself reads the cache (feature switches
in its context), so with Redis away it used to raise too; that exception left Django for the server, the request
never finished, and the database connection it held never went back to the pool (bench/failover.py found ten such
requests enough to take the site down for good). The error page now falls back to a plain one."""

from __future__ import annotations

import pytest
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from goatedvips import views


class RedisAway:
    """Stands for the cache while the primary is gone: every call fails as redis-py fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6391. Connection refused.")

        return fail


@pytest.fixture
def redis_away(monkeypatch):
    import waffle.models

    monkeypatch.setattr(waffle.models, "get_cache", RedisAway)
    monkeypatch.setattr("django.core.cache.cache", RedisAway())


def test_the_500_page_falls_back_to_a_plain_page_when_its_own_context_fails(rf, db, redis_away, caplog):
    request = rf.get("/players/someone/")
    response = views.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert response.content.startswith(b"<!doctype html>")
    assert "the 500 page could not be rendered" in caplog.text


def test_the_500_page_is_the_site_page_when_nothing_else_is_wrong(rf, db):
    response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert not response.content.startswith(views.PLAIN_500.encode()[:40])


def test_a_page_that_fails_on_redis_answers_the_plain_500_and_finishes_the_request(db, redis_away, settings):
    from django.core.signals import request_finished

    settings.DEBUG = False  # DEBUG answers with the technical page, never the handler
    finished = []

    def on_finished(**kwargs):
        finished.append(True)

    request_finished.connect(on_finished)
    try:
        response = Client(raise_request_exception=False).get("/")
    finally:
        request_finished.disconnect(on_finished)
    assert response.status_code == 500
    assert response.content == views.PLAIN_500.encode()
    assert finished == [True]
