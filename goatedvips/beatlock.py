"""One beat at a time. A second beat (started by mistake, or a standby on another host) sends nothing while the
first holds a PostgreSQL session advisory lock, and takes over within STANDBY_POLL_SECONDS when that beat's
connection ends (the process killed, its host lost). Without PostgreSQL (embedded mode runs no beat) there is no
lock: the scheduler is Celery's own.

The lock needs nothing but the database, like the sync lock (races.feed.lock), and is checked before every tick:
a leader whose connection broke (PostgreSQL restarted) has lost the lock with it and must take it again before it
sends anything. Tasks stay safe to run twice (DESIGN.md §2): this keeps a period from sending them twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

BEAT_LOCK_ID = 0x60A7EB  # any constant shared by every beat of this app (the sync lock is 0x60A7ED)
STANDBY_POLL_SECONDS = 5.0


def _connect():
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True, connect_timeout=5,
    )  # fmt: skip


class BeatLeaderLock:
    """A session advisory lock on a connection of its own (never a pooled one, which another request would reuse)."""

    def __init__(self, connect: Callable = _connect):
        self._connect = connect
        self._conn = None
        self._held = False

    def held(self) -> bool:
        """Whether this process holds the lock now, taking it when it is free. Never raises: no database, no lock."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn, self._held = self._connect(), False
            if self._held:
                self._conn.execute("SELECT 1")  # the session (and so the lock) is still there
            else:
                self._held = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_ID]).fetchone()[0])
            return self._held
        except Exception:  # a broken connection lost the lock with it; the next tick reconnects
            logger.warning("beat: the database does not answer; sending nothing until it does", exc_info=True)
            self.release()
            return False

    def release(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            try:
                conn.close()  # ends the session: PostgreSQL frees the lock
            except Exception:
                logger.debug("beat: closing the lock connection failed", exc_info=True)


class LeaderScheduler(PersistentScheduler):
    """Celery's scheduler (its shelve file keeps the last runs), sending only while this beat holds the lock."""

    def __init__(self, *args, **kwargs):
        self.leader = BeatLeaderLock() if settings.IS_POSTGRES else None
        self._leading: bool | None = None
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        leading = self.leader is None or self.leader.held()
        if leading != self._leading:
            state = "holds the beat lock: sending the schedule" if leading else "another beat leads: standing by"
            logger.warning("beat: %s", state)
            self._leading = leading
        if not leading:
            return STANDBY_POLL_SECONDS
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        super().close()
        if self.leader is not None:
            self.leader.release()
