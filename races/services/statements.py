"""Monthly statements: on the 1st, each opted-in player gets last month's figures by email, taken from that
month's archive (the finalized monthly race) and results, so the statement and the archive always agree."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone

from notifications.services import notify
from races.models import HistoricalRace, Player, RaceResult, WagerRace
from vip.selectors import TierTable

logger = logging.getLogger(__name__)


@dataclass
class Statement:
    month_label: str
    wagered: Decimal = Decimal("0")  # from the month's monthly race archive
    rank: int | None = None
    races: list[dict] = field(default_factory=list)  # races that ended in the month, with the player's result
    prizes: Decimal = Decimal("0")
    tier: str | None = None


def _month_window(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def statement_for(player: Player, year: int, month: int, tiers: TierTable | None = None) -> Statement:
    start, end = _month_window(year, month)
    statement = Statement(month_label=f"{calendar.month_name[month]} {year}")
    archive = HistoricalRace.objects.filter(type=WagerRace.Type.MONTHLY, year=year, month=month).order_by("pk").first()
    if archive is not None:
        entry = next((p for p in archive.participants if p.get("uid") == player.uid), None)
        if entry is not None:
            statement.wagered, statement.rank = Decimal(entry["wagered"]), entry["rank"]
    results = RaceResult.objects.filter(player=player, race__end_date__gt=start, race__end_date__lte=end)
    for result in results.select_related("race").order_by("race__end_date"):
        statement.races.append(
            {"title": result.race.title, "rank": result.rank, "wagered": result.wagered, "prize": result.prize}
        )
        statement.prizes += result.prize
    tier = (tiers or TierTable()).tier_for(player.wager_all_time)
    statement.tier = tier.name if tier else None
    return statement


def previous_month(now: datetime | None = None) -> tuple[int, int]:
    now = (now or timezone.now()).astimezone(UTC)
    return (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)


def monthly_statements_send(year: int | None = None, month: int | None = None) -> int:
    """Email last month's statement to every linked player who wants statements by email; once per player and
    month, whatever runs it and however often."""
    if year is None or month is None:
        year, month = previous_month()
    tiers, sent = TierTable(), 0
    for player in Player.objects.filter(site_user__isnull=False).select_related("site_user").order_by("pk"):
        user = player.site_user
        statement = statement_for(player, year, month, tiers)
        # notify decides who takes it (monthly_statements and email on, a confirmed address) and sends it once.
        if notify(
            user, "statement.monthly", title=f"Your {statement.month_label} statement",
            dedupe_key=f"statement:{user.pk}:{year}-{month:02d}", context={"s": statement, "user": user},
        ):  # fmt: skip
            sent += 1
    logger.info("monthly statements for %s-%02d: %s sent", year, month, sent)
    return sent
