"""The test runs' own plumbing: each pytest-xdist worker of the PostgreSQL + Redis run on a Redis database of its
own (tests/xdist_redis.py)."""

from __future__ import annotations

import pytest

from tests.xdist_redis import layer_prefix, worker_redis_url


def test_each_worker_takes_the_database_its_number_below_the_runs():
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/14"
    assert worker_redis_url("redis://:secret@redis.internal:6380/9", "gw3") == "redis://:secret@redis.internal:6380/6"
    assert worker_redis_url("", "gw1") == ""


def test_a_worker_past_database_0_is_refused_rather_than_sharing_one():
    with pytest.raises(ValueError, match="no Redis database left for xdist worker gw2"):
        worker_redis_url("redis://127.0.0.1:6379/1", "gw2")


def test_each_redis_database_has_a_channel_layer_prefix_of_its_own():
    # Redis's pub/sub channels are the server's: runs on databases 15 and 14 must not share group channels.
    assert layer_prefix("redis://127.0.0.1:6379/15") != layer_prefix("redis://127.0.0.1:6379/14")
    assert layer_prefix("redis://127.0.0.1:6379/15") == "gv-asgi-db15"
