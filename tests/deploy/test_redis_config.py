"""The Redis settings of the four roles (goatedvips/redis_config.py): embedded, one Redis (REDIS_URL), and Redis
Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_MASTER) for the cache and rate-limit counters, the channel layer and
the Celery broker; bad values are configuration errors, not a half-configured process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from redis.sentinel import SentinelConnectionPool

from core.cache import SentinelRedisCache
from goatedvips.redis_config import redis_settings, sentinel_addresses

ROOT = Path(__file__).resolve().parents[2]
SENTINELS = "10.0.0.1:26379,10.0.0.2:26380,[::1]:26381"


def test_without_redis_the_settings_are_embedded():
    config = redis_settings()
    assert config.embedded
    assert config.caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert config.channel_layers["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert config.broker_url == "memory://"
    assert config.broker_transport_options == {}


def test_redis_url_alone_points_every_role_at_that_redis():
    config = redis_settings(redis_url="redis://127.0.0.1:6379/3", cache_key_prefix="p", layer_prefix="lp")
    assert not config.embedded
    assert config.caches["default"] == {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
        "KEY_PREFIX": "p",
    }
    layer = config.channel_layers["default"]
    assert layer["BACKEND"] == "core.layers.PubSubChannelLayer"
    assert layer["CONFIG"] == {
        "hosts": [{"address": "redis://127.0.0.1:6379/3", "socket_timeout": None, "max_connections": 1000}],
        "prefix": "lp",
    }
    assert config.broker_url == "redis://127.0.0.1:6379/3"
    assert config.broker_transport_options == {}


def test_sentinel_settings_send_the_cache_to_a_sentinel_aware_backend():
    config = redis_settings(sentinels=SENTINELS, sentinel_master="gv-main", cache_key_prefix="p")
    cache = config.caches["default"]
    assert cache["BACKEND"] == "core.cache.SentinelRedisCache"
    assert cache["LOCATION"] == "10.0.0.1:26379,10.0.0.2:26380,[::1]:26381"
    assert cache["KEY_PREFIX"] == "p"
    assert cache["OPTIONS"]["master_name"] == "gv-main"
    assert cache["OPTIONS"]["db"] == 0
    assert cache["OPTIONS"]["sentinel_kwargs"]["socket_timeout"] <= 1
    assert "password" not in cache["OPTIONS"]


def test_sentinel_settings_give_channels_redis_its_sentinel_host():
    config = redis_settings(sentinels=SENTINELS, sentinel_master="gv-main", layer_kind="core")
    layer = config.channel_layers["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    (host,) = layer["CONFIG"]["hosts"]
    assert "address" not in host  # channels-redis would take an address over the sentinels
    assert host["sentinels"] == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381)]
    assert host["master_name"] == "gv-main"
    assert host["socket_timeout"] is None
    assert host["max_connections"] == 1000
    assert layer["CONFIG"]["capacity"] == 1500


def test_sentinel_settings_give_celery_the_kombu_sentinel_transport():
    config = redis_settings(sentinels=SENTINELS, sentinel_master="gv-main")
    assert config.broker_url == ("sentinel://10.0.0.1:26379/0;sentinel://10.0.0.2:26380/0;sentinel://[::1]:26381/0")
    assert config.broker_transport_options["master_name"] == "gv-main"


def test_redis_url_beside_sentinels_gives_only_the_database_and_password():
    config = redis_settings(redis_url="redis://:p%40ss@ignored:1/4", sentinels="h:1,h:2", sentinel_master="m")
    assert config.caches["default"]["OPTIONS"]["db"] == 4
    assert config.caches["default"]["OPTIONS"]["password"] == "p@ss"
    host = config.channel_layers["default"]["CONFIG"]["hosts"][0]
    assert (host["db"], host["password"]) == (4, "p@ss")
    assert config.broker_url == "sentinel://:p%40ss@h:1/4;sentinel://:p%40ss@h:2/4"
    assert "ignored" not in json.dumps(config.caches) + json.dumps(config.channel_layers) + config.broker_url


@pytest.mark.parametrize(
    ("sentinels", "master", "message"),
    [
        ("h:1", "", "REDIS_SENTINEL_MASTER must name"),
        ("", "m", "REDIS_SENTINELS must list"),
        ("h", "m", "host:port"),
        ("h:1,,h:2", "m", "host:port"),
        ("h:port", "m", "host:port"),
        (":1", "m", "host:port"),
        ("h:70000", "m", "host:port"),
    ],
)
def test_bad_sentinel_settings_are_configuration_errors(sentinels, master, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        redis_settings(sentinels=sentinels, sentinel_master=master)


def test_an_unknown_channel_layer_kind_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="CHANNEL_LAYER_KIND"):
        redis_settings(redis_url="redis://h/0", layer_kind="list")


def test_a_redis_url_path_that_is_not_a_database_number_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="database number"):
        redis_settings(redis_url="redis://h/cache", sentinels="h:1", sentinel_master="m")


def test_sentinel_addresses_accept_spaces_and_bracketed_ipv6():
    assert sentinel_addresses(" a:1 , [::1]:2") == [("a", 1), ("::1", 2)]


def test_the_sentinel_cache_asks_the_sentinels_for_the_named_primary():
    params = redis_settings(sentinels=SENTINELS, sentinel_master="gv-main").caches["default"]
    client = SentinelRedisCache(params["LOCATION"], params)._cache
    pool = client._get_connection_pool(write=False)
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "gv-main"
    kwargs = [sentinel.connection_pool.connection_kwargs for sentinel in pool.sentinel_manager.sentinels]
    addresses = [(each["host"], each["port"]) for each in kwargs]
    assert addresses == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381)]
    assert pool.connection_kwargs["db"] == 0
    # A command that meets a dead primary retries (asking the sentinels again) through the election.
    assert pool.connection_kwargs["retry"].get_retries() == 10
    # One pool and one client for reads and writes (both go to the primary).
    assert client._get_connection_pool(write=True) is pool
    assert client.get_client(write=False) is client.get_client(write=True)


def test_settings_read_the_sentinel_variables_from_the_environment():
    env = {
        **os.environ,
        "REDIS_SENTINELS": "127.0.0.1:26391,127.0.0.1:26392",
        "REDIS_SENTINEL_MASTER": "gv-main",
        "DJANGO_SETTINGS_MODULE": "goatedvips.settings",
        "DEBUG": "1",
    }
    env.pop("REDIS_URL", None)
    script = (
        "import json; from django.conf import settings as s; print(json.dumps([s.EMBEDDED, "
        "s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['master_name'], "
        "s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS['master_name']]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        False,
        "core.cache.SentinelRedisCache",
        "gv-main",
        "sentinel://127.0.0.1:26391/0;sentinel://127.0.0.1:26392/0",
        "gv-main",
    ]
