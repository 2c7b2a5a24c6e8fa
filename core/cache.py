"""Django's Redis cache with one redis-py client per connection pool instead of one per cache call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every get and set, and that constructor
registers a table of about a hundred response callbacks: on a slow machine 0.2–0.3 ms a call, paid several times
per page (sessions, switches, the tier ladder, cached leaderboards, rate limits). A client holds no connection
of its own (it borrows from the pool, which is thread-safe and notices a fork), so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
