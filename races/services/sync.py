"""`sync_wagers`: fetch the feed → validate → write players and ranks → live races → log → cache → announce.

The orchestrator: the feed package (races.feed) fetches, writes and logs; the race engine refreshes live races;
vip tells players who climbed a tier. One sync at a time (races.feed.lock). The fetch runs outside any transaction
(upstream takes seconds); everything that writes runs in one transaction, so a failed sync changes no row and the
last good data keeps being served. The only trace of a failure is its TransformationLog row.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from core import metrics
from races import realtime
from races.feed.client import FeedBatch, FeedError, feed_load, feed_source
from races.feed.leaderboard import leaderboard_cache_refresh
from races.feed.load_portable import feed_rows_write_portable
from races.feed.load_postgres import feed_rows_write_postgres
from races.feed.lock import sync_lock_acquire, sync_lock_release
from races.feed.logs import sync_log_failure, sync_log_success
from races.feed.models import Player
from races.feed.ranks import player_ranks_recompute
from races.feed.volume import feed_volume, volume_collapse_reason, wager_day_record
from races.services.standings import races_refresh_after_sync
from races.signals import feed_synced
from vip.services import tier_climbs_notify

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    ok: bool
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    duration_ms: int = 0
    error: str = ""
    skipped: bool = False
    races: list[int] = field(default_factory=list)
    # Why live races were not refreshed although the players were (a collapse of a period's total), or "".
    races_refused: str = ""
    counter_resets: dict[int, int] = field(default_factory=dict)  # race → players whose counter went down
    races_ended: list[int] = field(default_factory=list)  # live races that ended before this data arrived
    log_id: int | None = None

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
        }

    def summary(self) -> str:
        if self.skipped:
            return "another sync is already running; this one did nothing"
        if not self.ok:
            return f"sync failed: {self.error}"
        c = self.counts()
        return (
            f"synced {c['received']:,} rows: {c['created']:,} created, {c['updated']:,} updated, "
            f"{c['unchanged']:,} unchanged, {c['rejected']:,} rejected, {c['duplicates']:,} duplicate uids "
            f"in {self.duration_ms:,} ms"
        )


def _linked_all_time() -> dict[int, Decimal]:
    """All-time wagers of the players linked to an account (the ones a tier change is told to)."""
    return dict(Player.objects.filter(site_user__isnull=False).values_list("pk", "wager_all_time"))


def _tier_climbs_notify(before: dict[int, Decimal]) -> int:
    if not before:
        return 0
    players = Player.objects.filter(pk__in=before).select_related("site_user")
    return tier_climbs_notify((p.site_user, before[p.pk], p.wager_all_time) for p in players)


def _players_write(batch: FeedBatch, result: SyncResult, fetched_at: datetime) -> int:
    """Write the batch's players and their ranks; returns the rows written (players and ranks)."""
    if connection.vendor == "postgresql":
        result.created, result.updated, rows_written = feed_rows_write_postgres(batch.rows, fetched_at)
    else:
        result.created, result.updated = feed_rows_write_portable(batch.rows, fetched_at)
        rows_written = result.created + result.updated + player_ranks_recompute()
    result.unchanged = len(batch.rows) - result.created - result.updated
    return rows_written


def _races_refresh(result: SyncResult, volume: dict[str, Decimal], fetched_at: datetime) -> None:
    result.races_refused = volume_collapse_reason(volume, fetched_at)
    if result.races_refused:
        logger.warning("sync_wagers: live races not updated: %s", result.races_refused)
        return
    refresh = races_refresh_after_sync(fetched_at)
    result.races, result.counter_resets, result.races_ended = refresh.races, refresh.resets, refresh.ended
    feed_synced.send(sender=None, as_of=fetched_at)  # raffle tickets, measured by the same rules


def _log_notes(result: SyncResult) -> tuple[list[str], dict]:
    """Why a successful sync is a warning (message notes) and the matching payload entries."""
    notes, extra = [], {}
    if result.races_refused:
        notes.append(f"live races not updated: {result.races_refused}")
        extra["races_refused"] = result.races_refused
    if result.races_ended:
        ids = ", ".join(f"#{pk}" for pk in result.races_ended)
        notes.append(f"race {ids} ended before this data arrived: left as it was")
        extra["races_ended_before_data"] = result.races_ended
    if result.counter_resets:
        total = sum(result.counter_resets.values())
        notes.append(f"{total:,} player counter(s) went down inside a live race (upstream reset): standings kept")
        extra["counter_resets"] = {str(race): n for race, n in result.counter_resets.items()}
    return notes, extra


def _after_commit(fetched_at: datetime) -> None:
    # Caches and sockets only ever see committed data. Neither may undo the sync if it fails: the cache falls
    # back to the database and clients re-snapshot when they reconnect.
    try:
        leaderboard_cache_refresh(as_of=fetched_at)
    except Exception:
        logger.exception("sync_wagers: could not refresh the leaderboard cache")
    realtime.leaderboard_updated_announce(fetched_at.isoformat().replace("+00:00", "Z"))


def _apply(batch: FeedBatch, result: SyncResult, fetched_at: datetime, started: float) -> None:
    with transaction.atomic():
        tiers_before = _linked_all_time()
        rows_written = _players_write(batch, result, fetched_at)
        volume, active_today = feed_volume()
        wager_day_record(fetched_at, volume["today"], active_today)
        _tier_climbs_notify(tiers_before)
        _races_refresh(result, volume, fetched_at)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        notes, extra = _log_notes(result)
        log = sync_log_success(
            batch=batch, counts=result.counts(), fetched_at=fetched_at, duration_ms=result.duration_ms,
            rows_written=rows_written, volume=volume, races=result.races, extra=extra, notes=notes,
        )  # fmt: skip
        result.log_id = log.pk
        transaction.on_commit(lambda: _after_commit(fetched_at), robust=True)


def sync_wagers(*, as_of: datetime | None = None) -> SyncResult:
    """Run one sync now. Never raises for feed problems: the result (and its log row) says what happened.

    ``as_of`` is when the data was observed: by default when the feed's response *arrived* (upstream can take
    minutes with retries, and a race that ended meanwhile must not take it); replays of a recorded feed pass
    the original time.
    """
    token = sync_lock_acquire()
    if token is None:
        logger.info("sync_wagers: another sync holds the lock; skipping")
        metrics.SYNCS.labels("skipped").inc()
        return SyncResult(ok=True, skipped=True)
    started = time.monotonic()
    result = SyncResult(ok=False)
    batch: FeedBatch | None = None
    try:
        try:
            batch = feed_load()
        except FeedError as exc:
            result.error = str(exc)
        else:
            result.received, result.rejected, result.duplicates = batch.received, batch.rejected, batch.duplicates
            _write(batch, result, as_of or batch.received_at or timezone.now(), started)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        if not result.ok:
            log = sync_log_failure(error=result.error, counts=result.counts(), duration_ms=result.duration_ms,
                                   source=feed_source(), batch=batch)  # fmt: skip
            result.log_id = log.pk
        else:
            logger.info("sync_wagers: %s", result.summary())
        _count(result)
        return result
    finally:
        sync_lock_release(token)


def _write(batch: FeedBatch, result: SyncResult, fetched_at: datetime, started: float) -> None:
    try:
        _apply(batch, result, fetched_at, started)
        result.ok = True
    except Exception as exc:  # a database error mid-sync: the transaction rolled back, log why
        logger.exception("sync_wagers: writing the sync failed")
        result.created = result.updated = result.unchanged = 0
        result.error = f"database error while writing: {type(exc).__name__}: {str(exc)[:200]}"


def _count(result: SyncResult) -> None:
    metrics.SYNCS.labels("ok" if result.ok else "failed").inc()
    metrics.SYNC_DURATION.observe(result.duration_ms / 1000)
    for kind in ("received", "created", "updated", "unchanged", "rejected"):
        metrics.SYNC_ROWS.labels(kind).inc(getattr(result, kind) or 0)
