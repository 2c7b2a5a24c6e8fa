"""The Redis cache backend (core/cache.py): Django's, with one redis-py client per connection pool."""

from __future__ import annotations

import os

from core.cache import RedisCache
from tests.realtime.servers import REDIS_FOR_SERVERS


def _cache(prefix: str) -> RedisCache:
    return RedisCache(REDIS_FOR_SERVERS, {"KEY_PREFIX": f"test-cache-{prefix}-{os.getpid()}"})


def test_one_client_serves_every_call_and_the_cache_works():
    cache = _cache("one")
    try:
        client = cache._cache.get_client(write=True)
        assert cache._cache.get_client("any-key") is client
        assert cache.get("missing", "default") == "default"
        cache.set("answer", {"n": 42}, 30)
        assert cache.get("answer") == {"n": 42}
        assert cache.add("answer", "other") is False
        assert cache.add("hits", 0) is True
        assert cache.incr("hits") == 1
        assert cache.get_many(["answer", "hits"]) == {"answer": {"n": 42}, "hits": 1}
        cache.delete("answer")
        assert cache.get("answer") is None
        assert cache._cache.get_client(write=True) is client
    finally:
        cache.delete_many(["answer", "hits"])  # not clear(): the database is shared with other tests' servers


def test_read_replicas_get_a_client_each():
    cache = RedisCache(f"{REDIS_FOR_SERVERS},{REDIS_FOR_SERVERS}", {"KEY_PREFIX": f"test-cache-two-{os.getpid()}"})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client(write=False)  # the second server is the only reader
    assert reader is not writer
    assert cache._cache.get_client(write=False) is reader
    cache.set("k", "v", 30)
    assert cache.get("k") == "v"
    cache.delete("k")


def test_a_cache_that_does_not_answer_is_a_miss_never_an_error(caplog):
    dead = RedisCache("redis://127.0.0.1:1/0", {"KEY_PREFIX": "dead"})  # nothing listens on port 1
    assert dead.get("key", "default") == "default"
    assert dead.get_many(["a", "b"]) == {}
    assert dead.has_key("key") is False
    assert dead.add("key", 1) is False  # nothing taken: a lock or a gate is not held
    dead.set("key", 1)
    dead.set_many({"a": 1})
    assert dead.delete("key") is False
    dead.delete_many(["a"])
    assert dead.touch("key") is False
    try:
        dead.incr("hits")
    except ValueError:  # "missing": django-ratelimit then counts nothing
        counted = False
    else:
        counted = True
    assert counted is False
    assert "Redis does not answer" in caplog.text


def test_django_ratelimit_counts_nothing_when_the_cache_does_not_answer(settings):
    from django_ratelimit.core import get_usage

    settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    usage = get_usage(None, group="t", key=lambda _g, _r: "k", rate="5/m", increment=True)
    assert usage["should_limit"] is True  # fails closed (RATELIMIT_FAIL_OPEN unset): docs/operations.md, "Redis"
    assert usage["count"] == 0
