"""Wager adjustments: an operator credits or debits a player's standing in a live race, with a reason.

The adjustment is a row (who, how much, why) and a running sum on the participant; every recompute (now, and
each later sync) counts measured + adjustments, never below zero. Refused once the race is no longer live:
finalized results are frozen.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record
from core.errors import Conflict, NotFound, ServiceError
from core.models import AuditEntry
from races import realtime
from races.models import Player, RaceEntry, RaceParticipant, WagerAdjustment, WagerRace
from races.services.standings import race_standings_recompute

MAX_ADJUSTMENT = Decimal("1000000000000")


class AdjustmentRefused(ServiceError):
    code = "adjustment_invalid"


def _amount(raw) -> Decimal:
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise AdjustmentRefused(
            "The amount must be a number, like 250 or -1200.50.", fields={"amount": ["Not a number."]}
        ) from None
    if not amount.is_finite() or amount == 0 or abs(amount) >= MAX_ADJUSTMENT:
        raise AdjustmentRefused(
            "The amount must be a non-zero number (positive credits, negative debits).", fields={"amount": ["Invalid."]}
        )
    if amount.as_tuple().exponent < -8:
        raise AdjustmentRefused("At most 8 decimals.", fields={"amount": ["Too many decimals."]})
    return amount


def race_adjust(race_id: int, *, player_id: int, amount, reason: str, actor,
                source: str = AuditEntry.Source.ADMIN, now: datetime | None = None) -> WagerAdjustment:  # fmt: skip
    """Credit (+) or debit (-) `player_id`'s standing in live race `race_id`, applied at once. Refused after the
    race's end_date (409 `race_over`) even while the tick has not finalized it yet."""
    amount = _amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentRefused("Say why (a disputed bet, a fraud reversal...).", fields={"reason": ["Required."]})
    if len(reason) > 500:
        raise AdjustmentRefused("Keep the reason under 500 characters.", fields={"reason": ["Too long."]})
    now = now or timezone.now()
    with transaction.atomic():
        race = WagerRace.objects.select_for_update(of=("self",)).select_related("min_tier").filter(pk=race_id).first()
        if race is None:
            raise NotFound("No such race.")
        if race.status != WagerRace.Status.LIVE or race.finalized_at is not None:
            raise Conflict(
                f"“{race.title}” is {race.get_status_display().lower()}: adjustments apply to live races only "
                "(finalized results are frozen).",
                code="race_not_live",
            )
        if race.has_ended(now):
            raise Conflict(
                f"“{race.title}” ended at {race.end_date:%Y-%m-%d %H:%M} UTC: its standings are those of the last "
                "sync before the end, and finalization freezes them.",
                code="race_over",
            )
        player = Player.objects.filter(pk=player_id).first()
        if player is None:
            raise AdjustmentRefused("No such player.", fields={"player": ["Unknown."]})
        if race.entry == WagerRace.Entry.OPT_IN and not RaceEntry.objects.filter(race=race, player=player).exists():
            raise AdjustmentRefused(
                f"{player.name} has not joined this opt-in race.", fields={"player": ["Not joined."]}
            )
        participant, _ = RaceParticipant.objects.get_or_create(
            race=race, player=player, defaults={"joined_at": now, "baseline_all_time": Decimal("0")}
        )
        before = {"wagered": participant.wagered, "adjustment": participant.adjustment, "rank": participant.rank}
        adjustment = WagerAdjustment.objects.create(
            race=race, player=player, amount=amount, reason=reason, created_by=actor, created_at=now
        )
        RaceParticipant.objects.filter(pk=participant.pk).update(adjustment=F("adjustment") + amount)
        race_standings_recompute(race, now)
        participant.refresh_from_db()
        audit_record(
            actor=actor, action="race.adjust", target=race, source=source, before=before,
            after={"player": player.uid, "amount": amount, "reason": reason, "wagered": participant.wagered,
                   "adjustment": participant.adjustment, "rank": participant.rank},
        )  # fmt: skip
        transaction.on_commit(lambda: realtime.race_updated_announce(race.pk))
    return adjustment
