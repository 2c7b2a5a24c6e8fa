"""Retention: rows that only matter for a while are deleted once past their age, in batches, with progress in
the log. Records of money and of what happened in races are never touched here: race archives and results,
payouts, bonus code claims, wheel spins, adjustments, tickets and unread notifications.

Ages (days, settings `RETENTION_*_DAYS`; 0 keeps forever):

| what | setting | counted from |
|---|---|---|
| feed sync / transformation logs | RETENTION_TRANSFORMATION_LOG_DAYS (90) | created_at |
| race progress samples of finished races | RETENTION_PROGRESS_SAMPLE_DAYS (180) | the race's end |
| read notifications | RETENTION_READ_NOTIFICATION_DAYS (90) | read_at |
| Telegram link tokens (used or expired) | RETENTION_LINK_TOKEN_DAYS (7) | expires_at |
| audit log entries | RETENTION_AUDIT_DAYS (730) | created_at |

On PostgreSQL the logs and the samples are partitioned by month (core.partitions): nothing of theirs is deleted
without a copy in RETENTION_ARCHIVE_DIR. A month whose rows are all past their age is archived whole (one file,
then DETACH + DROP: no row-by-row delete, no bloat); rows past their age in a month that still holds younger ones
are appended to the day's file, then deleted, as on any other database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import TelegramLinkToken
from core import partitions
from core.models import AuditEntry
from notifications.models import Notification
from races.models import RaceProgressSample, TransformationLog, WagerRace

logger = logging.getLogger(__name__)
BATCH = 1000


@dataclass(frozen=True)
class Rule:
    label: str
    setting: str
    old: Callable[[datetime], QuerySet]  # the rows older than the cutoff


RULES = [
    Rule("transformation logs", "RETENTION_TRANSFORMATION_LOG_DAYS",
         lambda cutoff: TransformationLog.objects.filter(created_at__lt=cutoff)),
    Rule("progress samples of finished races", "RETENTION_PROGRESS_SAMPLE_DAYS",
         lambda cutoff: RaceProgressSample.objects.filter(
             race__status__in=[WagerRace.Status.COMPLETED, WagerRace.Status.CANCELLED], race__end_date__lt=cutoff)),
    Rule("read notifications", "RETENTION_READ_NOTIFICATION_DAYS",
         lambda cutoff: Notification.objects.filter(read_at__isnull=False, read_at__lt=cutoff)),
    Rule("Telegram link tokens", "RETENTION_LINK_TOKEN_DAYS",
         lambda cutoff: TelegramLinkToken.objects.filter(expires_at__lt=cutoff)),
    Rule("audit log entries", "RETENTION_AUDIT_DAYS", lambda cutoff: AuditEntry.objects.filter(created_at__lt=cutoff)),
]  # fmt: skip


def retention_run(*, now: datetime | None = None, dry_run: bool = False, batch: int = BATCH) -> dict[str, int]:
    """Delete what is past its age; returns rows per rule (what would go, with dry_run)."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    partitioned = partitions.partitioned_tables()
    for rule in RULES:
        days = int(getattr(settings, rule.setting))
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        old = rule.old(cutoff)
        if dry_run:
            done[rule.label] = old.count()
            continue
        table = old.model._meta.db_table
        total = _months_archive(rule, cutoff, partitioned[table], log=logger.info) if table in partitioned else 0
        if total:
            logger.info("retention: %s: %s deleted so far (older than %s days)", rule.label, total, days)
        while True:
            with transaction.atomic():
                ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
                if not ids:
                    break
                if table in partitioned:
                    partitions.rows_archive(table, ids, settings.RETENTION_ARCHIVE_DIR, now)
                old.model.objects.filter(pk__in=ids).delete()
            total += len(ids)
            logger.info("retention: %s: %s deleted so far (older than %s days)", rule.label, total, days)
        done[rule.label] = total
    logger.info("retention: done %s", done)
    return done


def _months_archive(rule: Rule, cutoff: datetime, column: str, log: partitions.Log) -> int:
    """Archive and drop each month of the rule's table that ended by `cutoff` and holds only rows past their age."""
    old = rule.old(cutoff)
    table = old.model._meta.db_table
    gone = 0
    for part in partitions.partitions_of(table):
        if part.end > cutoff:
            break
        in_month = old.filter(**{f"{column}__gte": part.start, f"{column}__lt": part.end})
        gone += partitions.partition_archive(table, part, settings.RETENTION_ARCHIVE_DIR, in_month.count, log)
    return gone


def partitions_archive(*, now: datetime | None = None, log: partitions.Log = logger.info) -> dict[str, int]:
    """Only the whole months past their age, of the partitioned tables (manage.py partitions): rows per rule."""
    now = now or timezone.now()
    partitioned = partitions.partitioned_tables()
    done: dict[str, int] = {}
    for rule in RULES:
        days = int(getattr(settings, rule.setting))
        table = rule.old(now).model._meta.db_table
        if days > 0 and table in partitioned:
            done[rule.label] = _months_archive(rule, now - timedelta(days=days), partitioned[table], log)
    return done
