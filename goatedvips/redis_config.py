"""Redis settings for the four roles (cache and rate-limit counters, channel layer, Celery broker), built in one
place from `REDIS_URL` or from `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER` (docs/operations.md, "Redis Sentinel").

With Sentinel every client asks the sentinels where the primary is and asks again when a connection to it fails:
redis-py's `SentinelConnectionPool` for the cache, channels-redis's sentinel hosts for the channel layer, kombu's
`sentinel://` transport for the broker. No failover logic of our own: Sentinel promotes, the clients follow.
`REDIS_URL`, when also set, gives only the database number and the password; its host and port are not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

CHANNEL_LAYER_KINDS = ("pubsub", "core")
# Connections to the sentinels themselves: a dead sentinel must not hold up the question "where is the primary?".
SENTINEL_KWARGS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
# Connections to the primary found through Sentinel: a primary that vanished without a reset (a host that died,
# not a process) is given up on after this long, so the client asks the sentinels again.
SENTINEL_CONNECT_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class RedisSettings:
    embedded: bool
    caches: dict
    channel_layers: dict
    broker_url: str
    broker_transport_options: dict = field(default_factory=dict)


def sentinel_addresses(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` → [(host, port), ...]; anything else is a configuration error."""
    addresses = []
    for item in (part.strip() for part in value.split(",")):
        host, sep, port = item.rpartition(":")
        if not item or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(f"REDIS_SENTINELS must be host:port,host:port (got {item!r} in {value!r})")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _db_and_password(redis_url: str) -> tuple[int, str | None]:
    if not redis_url:
        return 0, None
    parts = urlsplit(redis_url)
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL's path must be a database number, not {parts.path!r}")
    return int(path or 0), unquote(parts.password) if parts.password else None


def _layer(kind: str, host: dict, prefix: str) -> dict:
    if kind not in CHANNEL_LAYER_KINDS:
        raise ImproperlyConfigured(f"CHANNEL_LAYER_KIND must be pubsub or core, not {kind!r}")
    if kind == "pubsub":
        # pubsub: one PUBLISH per group event, each web process fans it out to its own sockets (bench/fanout.py:
        # docs/performance.md).
        return {"BACKEND": "core.layers.PubSubChannelLayer", "CONFIG": {"hosts": [host], "prefix": prefix}}
    # core: channels-redis's list layer, one queued message per socket, bounded per channel.
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [host],
            "prefix": prefix,
            # Messages a channel may queue before senders get ChannelFull (slow consumers).
            "capacity": 1500,
            # Seconds a channel stays in a group without re-joining (clients reconnect daily).
            "group_expiry": 86400,
        },
    }


# redis-py >= 7 closes sockets idle for socket_timeout seconds; a pub/sub listener is idle by nature, so no timeout,
# and a pool large enough for every group a process listens on.
LAYER_POOL = {"socket_timeout": None, "max_connections": 1000}


def redis_settings(
    *,
    redis_url: str = "",
    sentinels: str = "",
    sentinel_master: str = "",
    cache_key_prefix: str = "gv",
    layer_prefix: str = "gv-asgi",
    layer_kind: str = "pubsub",
) -> RedisSettings:
    if sentinels and not sentinel_master:
        raise ImproperlyConfigured("REDIS_SENTINELS is set: REDIS_SENTINEL_MASTER must name the monitored primary")
    if sentinel_master and not sentinels:
        raise ImproperlyConfigured("REDIS_SENTINEL_MASTER is set: REDIS_SENTINELS must list the sentinels")
    if sentinels:
        return _sentinel(redis_url, sentinels, sentinel_master, cache_key_prefix, layer_prefix, layer_kind)
    if redis_url:
        return RedisSettings(
            embedded=False,
            caches={
                "default": {
                    "BACKEND": "core.cache.RedisCache",  # Django's, with one client per pool (core/cache.py)
                    "LOCATION": redis_url,
                    "KEY_PREFIX": cache_key_prefix,
                }
            },
            channel_layers={"default": _layer(layer_kind, {"address": redis_url, **LAYER_POOL}, layer_prefix)},
            broker_url=redis_url,
        )
    # Embedded mode. 10,000 entries, not Django's 300: a day's referral visitor sightings live here too.
    return RedisSettings(
        embedded=True,
        caches={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "goatedvips",
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            }
        },
        channel_layers={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        broker_url="memory://",
    )


def _sentinel(
    redis_url: str, sentinels: str, master: str, cache_key_prefix: str, layer_prefix: str, layer_kind: str
) -> RedisSettings:
    addresses = sentinel_addresses(sentinels)
    db, password = _db_and_password(redis_url)
    auth = {"password": password} if password else {}
    connection = {"db": db, "socket_connect_timeout": SENTINEL_CONNECT_TIMEOUT_SECONDS, **auth}
    layer_host = {"sentinels": addresses, "master_name": master, "sentinel_kwargs": dict(SENTINEL_KWARGS)}
    userinfo = f":{quote(password, safe='')}@" if password else ""
    return RedisSettings(
        embedded=False,
        caches={
            "default": {
                "BACKEND": "core.cache.SentinelRedisCache",
                "LOCATION": ",".join(_netloc(host, port) for host, port in addresses),
                "KEY_PREFIX": cache_key_prefix,
                "OPTIONS": {"master_name": master, "sentinel_kwargs": dict(SENTINEL_KWARGS), **connection},
            }
        },
        channel_layers={"default": _layer(layer_kind, {**layer_host, **connection, **LAYER_POOL}, layer_prefix)},
        # kombu's sentinel transport: one URL per sentinel, the primary's name in the transport options.
        broker_url=";".join(f"sentinel://{userinfo}{_netloc(host, port)}/{db}" for host, port in addresses),
        broker_transport_options={"master_name": master, "sentinel_kwargs": dict(SENTINEL_KWARGS)},
    )
