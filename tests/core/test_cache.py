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
