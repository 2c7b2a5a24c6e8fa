"""The sync log (TransformationLog): one row per sync attempt, what it did or why it failed, and operators'
acknowledgement of failed or warning syncs."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.models import AuditEntry
from core.money import cents
from races.feed.client import FeedBatch
from races.feed.models import TransformationLog

logger = logging.getLogger(__name__)


def sync_log_failure(*, error: str, counts: dict[str, int], duration_ms: int, source: str,
                     batch: FeedBatch | None) -> TransformationLog:  # fmt: skip
    payload = {"kind": "sync", "ok": False, "source": source, **counts}
    if batch and batch.reject_reasons:
        payload["reject_reasons"] = batch.reject_reasons
    logger.warning("sync_wagers: %s", error)
    return TransformationLog.objects.create(
        type=TransformationLog.Type.ERROR,
        message=f"Feed sync failed: {error}",
        payload=payload,
        duration_ms=duration_ms,
        error_message=error,
    )


def sync_log_success(*, batch: FeedBatch, counts: dict[str, int], fetched_at: datetime, duration_ms: int,
                     rows_written: int, volume: dict[str, Decimal], races: list[int], extra: dict,
                     notes: list[str]) -> TransformationLog:  # fmt: skip
    """`volume` (totals over every player) feeds the dashboard's wager-volume chart and the next sync's collapse
    check; `notes` (why it is a warning) go into the message, `extra` into the payload."""
    if batch.rejected:
        notes = [f"{batch.rejected:,} rows rejected", *notes]
    payload = {
        "kind": "sync",
        "ok": True,
        "source": batch.source,
        "fetch_ms": batch.fetch_ms,
        "rows_written": rows_written,
        "races": races,
        "as_of": fetched_at.isoformat(),
        "volume": {k: str(cents(v)) for k, v in volume.items()},
        **counts,
        **extra,
    }
    if batch.reject_reasons:
        payload["reject_reasons"] = batch.reject_reasons
    message = (
        f"Feed sync: {counts['created']:,} created, {counts['updated']:,} updated, {counts['unchanged']:,} unchanged"
    )
    return TransformationLog.objects.create(
        type=TransformationLog.Type.WARNING if notes else TransformationLog.Type.INFO,
        message=message + (f" ({'; '.join(notes)})" if notes else ""),
        payload=payload,
        duration_ms=duration_ms,
        created_at=timezone.now(),
    )


def transformation_logs_resolve(log_ids: list[int], *, actor, source: str = AuditEntry.Source.SERVICE) -> int:
    """Operators acknowledge failed or warning syncs; one audit entry names how many."""
    with transaction.atomic():
        count = TransformationLog.objects.filter(pk__in=log_ids, resolved=False).update(resolved=True)
        audit_record(actor=actor, action="transformationlog.resolve", after={"count": count}, source=source)
    return count
