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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import TelegramLinkToken
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
    for rule in RULES:
        days = int(getattr(settings, rule.setting))
        if days <= 0:
            continue
        old = rule.old(now - timedelta(days=days))
        if dry_run:
            done[rule.label] = old.count()
            continue
        total = 0
        while True:
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            old.model.objects.filter(pk__in=ids).delete()
            total += len(ids)
            logger.info("retention: %s: %s deleted so far (older than %s days)", rule.label, total, days)
        done[rule.label] = total
    logger.info("retention: done %s", done)
    return done
