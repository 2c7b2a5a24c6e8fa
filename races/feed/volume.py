"""The feed's totals: what every player wagered per period, kept per day for the history charts, and the check
that a sync's totals can be trusted for race standings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum

from core.money import money_text
from races.feed.models import Player, TransformationLog, WagerDay


def feed_volume() -> tuple[dict[str, Decimal], int]:
    """Totals over every player per period ("today", "week", "month", "all_time") and how many wagered today."""
    totals = Player.objects.aggregate(
        today=Sum("wager_today"), week=Sum("wager_week"), month=Sum("wager_month"),
        all_time=Sum("wager_all_time"), active_today=Count("pk", filter=Q(wager_today__gt=0)),
    )  # fmt: skip
    active_today = totals.pop("active_today") or 0
    return {k: v or Decimal("0") for k, v in totals.items()}, active_today


def period_start(period: str, moment: datetime) -> datetime | None:
    """When the period containing `moment` began (upstream resets its counter then); None: it never resets."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


_COLLAPSE_PERIODS = {"week": "week", "month": "month", "all_time": "all-time"}


def volume_collapse_reason(volume: dict[str, Decimal], as_of: datetime) -> str:
    """Why this sync's totals cannot be trusted for race standings, or "" when they can. A period's total may fall
    by at most SYNC_COLLAPSE_FRACTION between two syncs inside one period; more is a broken or reset upstream
    figure, and live races keep their standings until a sane sync arrives (players still update)."""
    previous = (
        TransformationLog.objects.filter(payload__kind="sync", payload__ok=True, payload__has_key="volume")
        .order_by("-created_at")
        .first()
    )
    if previous is None or "as_of" not in previous.payload:
        return ""
    previous_at = datetime.fromisoformat(previous.payload["as_of"])
    for period, label in _COLLAPSE_PERIODS.items():
        old = previous.payload["volume"].get(period)
        start = period_start(period, as_of)
        if old is None or (start is not None and previous_at < start):
            continue  # no figure to compare, or the period turned over in between (a known reset)
        old, new = Decimal(old), volume[period]
        if old > 0 and new < old * (1 - Decimal(str(settings.SYNC_COLLAPSE_FRACTION))):
            drop = int((old - new) / old * 100)
            return (
                f"the {label} total fell {drop} % (from {money_text(old)} to {money_text(new)}) since the sync of "
                f"{previous_at:%Y-%m-%d %H:%M} UTC with no {label} reset in between"
            )
    return ""


def wager_day_record(at: datetime, wagered: Decimal, active_players: int) -> WagerDay:
    """Keep the day's figures for the history charts: the highest seen that UTC day (the feed's today counter
    only grows until midnight; a late or partial answer never lowers the day)."""
    day = at.astimezone(UTC).date()
    row, created = WagerDay.objects.get_or_create(
        date=day, defaults={"wagered": wagered, "active_players": active_players, "updated_at": at}
    )
    if not created and (wagered > row.wagered or active_players > row.active_players):
        row.wagered, row.active_players = max(row.wagered, wagered), max(row.active_players, active_players)
        row.updated_at = at
        row.save(update_fields=["wagered", "active_players", "updated_at"])
    return row
