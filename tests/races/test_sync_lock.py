"""The sync lock without PostgreSQL (races.feed.lock): the cache, and this process's own lock when the cache does
not answer, whether it raises or (core.cache.RedisCache) answers a miss."""

from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import caches

from races.feed import lock

DEAD_REDIS = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture(autouse=True)
def _without_postgres():
    """The path of a deployment without PostgreSQL (embedded SQLite), also in the PostgreSQL run of the suite: on
    PostgreSQL the lock is an advisory lock (tests/races/test_sync.py), and nothing here reaches the database."""
    with mock.patch.object(lock, "connection", SimpleNamespace(vendor="sqlite")):
        yield


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = DEAD_REDIS
    with mock.patch.object(lock, "cache", caches.create_connection("default")):
        yield


def test_the_cache_lock_lets_one_sync_in_at_a_time():
    first = lock.sync_lock_acquire()
    assert first is not None
    assert lock.sync_lock_acquire() is None
    lock.sync_lock_release(first)
    again = lock.sync_lock_acquire()
    assert again is not None
    lock.sync_lock_release(again)


def test_a_cache_that_answers_a_miss_falls_back_to_the_process_lock(dead_cache):
    holder = lock.sync_lock_acquire()
    assert holder == lock._LOCAL_HOLDER
    assert lock.sync_lock_acquire() is None  # one at a time in this process all the same
    lock.sync_lock_release(holder)
    assert lock.sync_lock_acquire() == lock._LOCAL_HOLDER
    lock.sync_lock_release(lock._LOCAL_HOLDER)


def test_a_cache_that_raises_falls_back_to_the_process_lock():
    with mock.patch.object(lock.cache, "add", side_effect=ConnectionError("down")):
        holder = lock.sync_lock_acquire()
    assert holder == lock._LOCAL_HOLDER
    lock.sync_lock_release(holder)
