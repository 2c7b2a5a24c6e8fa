"""Django's Redis cache with one redis-py client per connection pool instead of one per cache call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every get and set, and that constructor
registers a table of about a hundred response callbacks: on a slow machine 0.2–0.3 ms a call, paid several times
per page (sessions, switches, the tier ladder, cached leaderboards, rate limits). A client holds no connection
of its own (it borrows from the pool, which is thread-safe and notices a fork), so one per pool is enough.

`SentinelRedisCache` is the same cache reaching its Redis through Sentinel (REDIS_SENTINELS; settings from
goatedvips/redis_config.py). Django's `RedisCache` knows only URLs, and django-redis's `SentinelClient` would be a
second Redis cache library beside this one for the sake of one connection pool class.

A cache that does not answer (Redis down or restarting) is a miss, never an error: reads give the default, writes
do nothing, `add` takes nothing and `incr` says the key is missing (django-ratelimit then counts nothing and its
limits fail closed: docs/operations.md, "Redis"). Before, one ConnectionError deep in a page (the tier ladder, the
feature switches of the error page itself) was a 500, and a 500 whose own page failed kept its database connection
checked out of the pool for good (make chaos, step restart-redis).
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
_WARN_EVERY_SECONDS = 10.0
_last_warning = [0.0]


def _missing(*_args, **_kwargs):
    raise ValueError("the cache is unreachable")


def _soft(fallback):
    """Run the cache call; when Redis does not answer, log (at most every 10 s) and answer `fallback`'s way."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except _UNREACHABLE:
                now = time.monotonic()
                if now - _last_warning[0] >= _WARN_EVERY_SECONDS:
                    _last_warning[0] = now
                    logger.warning("cache: Redis does not answer; treating it as a miss", exc_info=True)
                return fallback(*args, **kwargs) if callable(fallback) else fallback

        return call

    return wrap


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    get = _soft(lambda key, default: default)(DjangoRedisCacheClient.get)
    get_many = _soft({})(DjangoRedisCacheClient.get_many)
    has_key = _soft(False)(DjangoRedisCacheClient.has_key)
    add = _soft(False)(DjangoRedisCacheClient.add)
    set = _soft(None)(DjangoRedisCacheClient.set)
    set_many = _soft(None)(DjangoRedisCacheClient.set_many)
    touch = _soft(False)(DjangoRedisCacheClient.touch)
    delete = _soft(False)(DjangoRedisCacheClient.delete)
    delete_many = _soft(None)(DjangoRedisCacheClient.delete_many)
    incr = _soft(_missing)(DjangoRedisCacheClient.incr)
    clear = _soft(False)(DjangoRedisCacheClient.clear)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


FAILOVER_RETRIES = 10


class SentinelRedisCacheClient(RedisCacheClient):
    """The primary that Redis Sentinel names, through redis-py's `SentinelConnectionPool`: a connection asks the
    sentinels for the primary's address when it connects, so after a failover new connections reach the promoted
    replica. LOCATION lists the sentinels (`host:port,host:port`); OPTIONS give `master_name`, `sentinel_kwargs`
    and the connection options (db, password, timeouts). Reads go to the primary too: a rate-limit counter or a
    session read from a replica could be stale."""

    def __init__(self, servers, *, master_name: str, sentinel_kwargs: dict | None = None, **options) -> None:
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # redis-py's own retry (a connection retries by default not at all): a command that meets a dead primary
        # waits, asking the sentinels again on each try, until they promote the replica (detection plus election,
        # a few seconds), instead of failing the page. 0.1, 0.2, 0.4, 0.8, then 1 s apart: about 7 s in all.
        options.setdefault("retry", Retry(ExponentialBackoff(cap=1.0, base=0.05), FAILOVER_RETRIES))
        super().__init__(servers, **options)
        self._master_name = master_name
        self._sentinel_kwargs = sentinel_kwargs
        self._sentinel_addresses = [_address(server) for server in servers]

    def _get_connection_pool_index(self, write):
        return 0

    def _get_connection_pool(self, write):
        pool = self._pools.get(0)
        if pool is None:
            from redis.sentinel import Sentinel, SentinelConnectionPool

            sentinel = Sentinel(self._sentinel_addresses, sentinel_kwargs=self._sentinel_kwargs)
            pool = self._pools[0] = SentinelConnectionPool(self._master_name, sentinel, **self._pool_options)
        return pool


def _address(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    return host.strip("[]"), int(port)


class SentinelRedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SentinelRedisCacheClient
