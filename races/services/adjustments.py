"""Wager adjustments: an operator credits or debits a player's standing in a live race, with a reason.

The adjustment is a row (who, how much, why) and a running sum on the participant; every recompute (now, and
each later sync) counts measured + adjustments, never below zero. Refused once the race is no longer live:
finalized results are frozen. Four eyes: one above ADJUSTMENT_REVIEW_ABOVE is kept pending until another operator
approves it (only then is it added to the running sum), and nobody adjusts or reviews their own player.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.audit import audit_record, duty_refused, plays_as, same_person
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


def _live_race(race_id: int, now: datetime) -> WagerRace:
    """The race, locked, if it still takes adjustments: live, and not ended by the clock (WagerRace.has_ended:
    after end_date nothing counts, even before the tick finalizes it; 409 `race_over`)."""
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
    return race


def _apply(race: WagerRace, player: Player, amount: Decimal, now) -> tuple[dict, RaceParticipant]:
    """Add an approved adjustment to the player's running sum (what the standings count) and recompute."""
    participant, _ = RaceParticipant.objects.get_or_create(
        race=race, player=player, defaults={"joined_at": now, "baseline_all_time": Decimal("0")}
    )
    before = {"wagered": participant.wagered, "adjustment": participant.adjustment, "rank": participant.rank}
    RaceParticipant.objects.filter(pk=participant.pk).update(adjustment=F("adjustment") + amount)
    race_standings_recompute(race, now)
    participant.refresh_from_db()
    transaction.on_commit(lambda: realtime.race_updated_announce(race.pk))
    return before, participant


def _needs_review(amount: Decimal) -> bool:
    return abs(amount) > settings.ADJUSTMENT_REVIEW_ABOVE


def race_adjust(race_id: int, *, player_id: int, amount, reason: str, actor,
                source: str = AuditEntry.Source.ADMIN, now: datetime | None = None) -> WagerAdjustment:  # fmt: skip
    """Credit (+) or debit (-) `player_id`'s standing in live race `race_id`: applied at once, or, above
    ADJUSTMENT_REVIEW_ABOVE, kept pending until a second operator approves it (`adjustment_approve`). Nobody
    adjusts the player their own account is linked to."""
    amount = _amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentRefused("Say why (a disputed bet, a fraud reversal...).", fields={"reason": ["Required."]})
    if len(reason) > 500:
        raise AdjustmentRefused("Keep the reason under 500 characters.", fields={"reason": ["Too long."]})
    if plays_as(actor, player_id):
        raise duty_refused(
            actor=actor, action="race.adjust", target=WagerRace.objects.filter(pk=race_id).first(), source=source,
            message="You cannot adjust your own player's standing: another operator must do it.",
        )  # fmt: skip
    now = now or timezone.now()
    with transaction.atomic():
        race = _live_race(race_id, now)
        player = Player.objects.filter(pk=player_id).first()
        if player is None:
            raise AdjustmentRefused("No such player.", fields={"player": ["Unknown."]})
        if race.entry == WagerRace.Entry.OPT_IN and not RaceEntry.objects.filter(race=race, player=player).exists():
            raise AdjustmentRefused(
                f"{player.name} has not joined this opt-in race.", fields={"player": ["Not joined."]}
            )
        status = WagerAdjustment.Status.PENDING_REVIEW if _needs_review(amount) else WagerAdjustment.Status.APPROVED
        adjustment = WagerAdjustment.objects.create(
            race=race, player=player, amount=amount, reason=reason, created_by=actor, created_at=now, status=status
        )
        after = {"player": player.uid, "amount": amount, "reason": reason, "status": status}
        before = None
        if status == WagerAdjustment.Status.APPROVED:
            before, participant = _apply(race, player, amount, now)
            after |= {"wagered": participant.wagered, "adjustment": participant.adjustment, "rank": participant.rank}
        audit_record(actor=actor, action="race.adjust", target=race, source=source, before=before, after=after)
    return adjustment


def _reviewable(adjustment_id: int, actor, action: str, source: str) -> WagerAdjustment:
    """The adjustment a reviewer may decide: it exists, and the reviewer is neither its author nor its player."""
    adjustment = WagerAdjustment.objects.filter(pk=adjustment_id).first()
    if adjustment is None:
        raise NotFound(f"There is no adjustment #{adjustment_id}.")
    if getattr(actor, "pk", None) is None:
        raise AdjustmentRefused("A second operator reviews an adjustment: sign in to approve or reject it.")
    why = None
    if same_person(actor, adjustment.created_by_id):
        why = f"Adjustment #{adjustment.pk} is yours: another operator must review it."
    elif plays_as(actor, adjustment.player_id):
        why = f"Adjustment #{adjustment.pk} is for your own player: another operator must review it."
    if why:
        raise duty_refused(actor=actor, action=f"adjustment.{action}", target=adjustment, message=why, source=source)
    return adjustment


def _review(adjustment_id: int, *, actor, approve: bool, source: str) -> WagerAdjustment:
    action = "approve" if approve else "reject"
    adjustment = _reviewable(adjustment_id, actor, action, source)
    S, now = WagerAdjustment.Status, timezone.now()
    with transaction.atomic():
        race = _live_race(adjustment.race_id, now) if approve else adjustment.race
        decided = WagerAdjustment.objects.filter(pk=adjustment.pk, status=S.PENDING_REVIEW).update(
            status=S.APPROVED if approve else S.REJECTED, reviewed_by=actor, reviewed_at=now
        )
        if not decided:
            adjustment.refresh_from_db()
            raise Conflict(
                f"Adjustment #{adjustment.pk} is already {adjustment.get_status_display().lower()}.",
                code="already_reviewed",
            )
        after = {"status": S.APPROVED if approve else S.REJECTED, "amount": adjustment.amount}
        if approve:
            _, participant = _apply(race, adjustment.player, adjustment.amount, now)
            after |= {"wagered": participant.wagered, "adjustment": participant.adjustment, "rank": participant.rank}
        audit_record(actor=actor, action=f"adjustment.{action}", target=adjustment, source=source,
                     before={"status": S.PENDING_REVIEW}, after=after)  # fmt: skip
    adjustment.refresh_from_db()
    return adjustment


def adjustment_approve(adjustment_id: int, *, actor, source: str = AuditEntry.Source.ADMIN) -> WagerAdjustment:
    """A second operator approves a large adjustment: from now on it counts (the race must still be live)."""
    return _review(adjustment_id, actor=actor, approve=True, source=source)


def adjustment_reject(adjustment_id: int, *, actor, source: str = AuditEntry.Source.ADMIN) -> WagerAdjustment:
    """A second operator turns a large adjustment down: it never counts."""
    return _review(adjustment_id, actor=actor, approve=False, source=source)
