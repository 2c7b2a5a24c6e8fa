"""One sync at a time.

On PostgreSQL a session advisory lock: it needs nothing but the database (a Redis outage must not stop syncs) and
dies with the connection if a worker is killed. Elsewhere (embedded SQLite, one process) the cache, and this
process's own lock when the cache is down.
"""

from __future__ import annotations

import logging
import threading
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

LOCK_KEY = "sync:wagers:lock"
_PG_LOCK_ID = 0x60A7ED  # any constant shared by every process of this app
_PG_HOLDER = "advisory"
_LOCAL_HOLDER = "local"
_local_lock = threading.Lock()


def sync_lock_acquire() -> str | None:
    """Take the lock without waiting: its holder token, or None when another sync holds it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_PG_LOCK_ID])
            return _PG_HOLDER if cursor.fetchone()[0] else None
    token = uuid.uuid4().hex
    try:
        if cache.add(LOCK_KEY, token, timeout=settings.SYNC_LOCK_SECONDS):
            return token
        # Not added: another sync holds it, or the cache is down (core.cache answers a miss, never an error), in
        # which case no holder can be read either.
        if cache.get(LOCK_KEY) is not None:
            return None
    except Exception:
        logger.debug("sync_wagers: the cache raised for the lock", exc_info=True)
    # Cache down (possible only with SQLite + Redis, never in production, which locks in PostgreSQL):
    # fall back to this process's own lock rather than skip syncing until the cache returns.
    logger.warning("sync_wagers: cache unavailable for the lock; using an in-process lock")
    return _LOCAL_HOLDER if _local_lock.acquire(blocking=False) else None


def sync_lock_release(holder: str) -> None:
    if holder == _PG_HOLDER:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_PG_LOCK_ID])
        return
    if holder == _LOCAL_HOLDER:
        _local_lock.release()
        return
    # Only the holder releases; a lock that expired and was re-taken by another sync is left alone.
    try:
        if cache.get(LOCK_KEY) == holder:
            cache.delete(LOCK_KEY)
    except Exception:  # the lock expires on its own (SYNC_LOCK_SECONDS)
        logger.warning("sync_wagers: could not release the cache lock", exc_info=True)


def sync_running() -> bool:
    """Whether some process holds the sync lock right now."""
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted)",
                    [_PG_LOCK_ID],
                )
                return bool(cursor.fetchone()[0])
        return cache.get(LOCK_KEY) is not None
    except Exception:  # a status read must never break the page showing it
        logger.warning("sync_running: could not read the lock state", exc_info=True)
        return False
