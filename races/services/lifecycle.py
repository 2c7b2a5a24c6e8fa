"""Race lifecycle: upcoming → live → completed (finalized exactly once), or cancelled; prizes; recurrence."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.audit import audit_record
from core.errors import Conflict, NotFound
from core.models import AuditEntry
from core.money import money_text
from notifications.email import absolute
from notifications.services import announce, notify
from races import realtime
from races.feed.names import player_public_name
from races.models import HistoricalRace, Player, RaceParticipant, RaceResult, WagerRace
from races.prizes import prize_for, prize_table
from races.services.standings import race_baselines_record, race_standings_recompute
from races.signals import race_finalized

logger = logging.getLogger(__name__)


def _get(race_id: int) -> WagerRace:
    try:
        return WagerRace.objects.get(pk=race_id)
    except WagerRace.DoesNotExist:
        raise NotFound(f"Race {race_id} does not exist.") from None


def _audit(race: WagerRace, action: str, *, actor, source: str | None, before: dict, after: dict) -> None:
    """Every status change leaves one audit entry, whoever made it: an operator (admin, bot, API), or the
    scheduler (`race_tick`, no actor: recorded as the system)."""
    source = source or (AuditEntry.Source.SERVICE if actor is not None else AuditEntry.Source.SYSTEM)
    audit_record(actor=actor, action=action, target=race, before=before, after=after, source=source)


def race_start(race_id: int, *, actor=None, now: datetime | None = None, source: str | None = None) -> bool:
    """upcoming → live, recording the baselines. Returns False if another caller started it first (or it is
    not upcoming)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = WagerRace.objects.filter(pk=race_id, status=WagerRace.Status.UPCOMING).update(
            status=WagerRace.Status.LIVE, went_live_at=now, updated_at=now
        )
        if not claimed:
            return False
        race = _get(race_id)
        race_baselines_record(race, now)
        _audit(race, "race.start", actor=actor, source=source, before={"status": WagerRace.Status.UPCOMING},
               after={"status": race.status, "went_live_at": now})  # fmt: skip
        _announce_on_commit(race_id, realtime.race_updated_announce)
        announce(
            f"race-live:{race.pk}",
            f"🏁 {race.title} is live: {money_text(race.prize_pool)} in prizes. {absolute(f'/races/{race.pk}/')}",
        )
    logger.info("race %s is live", race_id)
    return True


def race_cancel(race_id: int, *, actor=None, source: str | None = None) -> bool:
    """upcoming or live → cancelled (no results, no prizes). Refused for a race that already ended."""
    with transaction.atomic():
        race = _get(race_id)
        claimed = WagerRace.objects.filter(pk=race_id, status__in=WagerRace.OPEN_STATUSES).update(
            status=WagerRace.Status.CANCELLED, updated_at=timezone.now()
        )
        if not claimed:
            raise Conflict(f"“{race.title}” is {race.get_status_display().lower()} and can no longer be cancelled.")
        _audit(race, "race.cancel", actor=actor, source=source, before={"status": race.status},
               after={"status": WagerRace.Status.CANCELLED})  # fmt: skip
        _announce_on_commit(race_id, realtime.race_updated_announce)
    return True


def race_recompute(race_id: int, *, actor=None, source: str | None = None) -> int:
    """Recompute a live race's standings from the current Player rows (operators' "recompute" action)."""
    with transaction.atomic():
        race = WagerRace.objects.select_for_update().filter(pk=race_id).first()
        if race is None:
            raise NotFound(f"Race {race_id} does not exist.")
        if race.status != WagerRace.Status.LIVE:
            raise Conflict("Only a live race can be recomputed; a finished race keeps its frozen standings.")
        now = timezone.now()
        if race.has_ended(now):
            raise Conflict(
                "This race has ended: its standings are those of the last sync before the end, and the next tick "
                "finalizes them.",
                code="race_over",
            )
        changed = race_standings_recompute(race, now)
        _audit(race, "race.recompute", actor=actor, source=source, before={"status": race.status},
               after={"status": race.status, "rows_changed": changed})  # fmt: skip
        _announce_on_commit(race_id, realtime.race_updated_announce)
    return changed


@dataclass
class Finalization:
    race_id: int
    results: int = 0
    paid: Decimal = Decimal("0")
    winners_notified: int = 0
    payouts: int = 0  # payouts created (one per prize), pending approval
    next_race_id: int | None = None
    messages: list[str] = field(default_factory=list)


def race_finalize(
    race_id: int, *, actor=None, now: datetime | None = None, force: bool = False, source: str | None = None
) -> Finalization | None:
    """Freeze a finished race exactly once: results, prizes, archive, winner notifications, next race.

    The claim is a conditional UPDATE (live and not yet finalized → completed + finalized_at): whichever caller
    changes that one row does the work inside the same transaction; every other caller, at the same moment or
    later, sees 0 rows and returns None. The unique constraints on results and the archive back this up.
    ``force`` lets an operator finalize before end_date (the standings are frozen as they are now).
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = WagerRace.objects.filter(pk=race_id, status=WagerRace.Status.LIVE, finalized_at__isnull=True)
        if not force:
            due = due.filter(end_date__lte=now)
        if due.update(status=WagerRace.Status.COMPLETED, completed_at=now, finalized_at=now, updated_at=now) != 1:
            return None
        race = _get(race_id)
        report = Finalization(race_id=race_id)
        results = _results_write(race)
        responses = race_finalized.send(sender=WagerRace, race=race, results=results)
        report.payouts = sum(count for _receiver, count in responses if isinstance(count, int))
        report.results = len(results)
        report.paid = sum((r.prize for r in results), Decimal("0"))
        _archive_write(race, results, paid=report.paid, now=now, force=force)
        report.winners_notified = sum(1 for r in results if r.prize > 0)
        if race.recurrence != WagerRace.Recurrence.NONE:
            report.next_race_id = race_recurrence_create(race).pk
        _audit(race, "race.finalize", actor=actor, source=source, before={"status": WagerRace.Status.LIVE},
               after={"status": race.status, "results": report.results, "paid": report.paid, "forced": force,
                      "next_race": report.next_race_id})  # fmt: skip
        _after_finalize_on_commit(race.pk)
        podium = "; ".join(
            f"{r.rank}. {player_public_name(r.player)} {money_text(r.prize)}" for r in results[:3] if r.prize > 0
        )
        announce(f"race-results:{race.pk}", f"🏆 {race.title} is over. {podium or 'No prizes this time.'}")
    logger.info("race %s finalized: %s results, %s paid", race_id, report.results, report.paid)
    return report


def _results_write(race: WagerRace) -> list[RaceResult]:
    """The final standings as result rows, with each rank's prize (frozen from here on)."""
    prizes = prize_table(race.prize_pool, race.prize_distribution)
    standings = list(
        RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player").order_by("rank")
    )
    results = [
        RaceResult(
            race=race,
            player=p.player,
            rank=p.rank,
            name=p.player.name,
            uid=p.player.uid,
            wagered=p.wagered,
            prize=prize_for(prizes, p.rank, p.prize_eligible),
            prize_eligible=p.prize_eligible,
        )
        for p in standings
    ]
    RaceResult.objects.bulk_create(results, batch_size=1000)
    WagerRace.objects.filter(pk=race.pk).update(standings_total=len(results))
    race.standings_total = len(results)
    return results


def _archive_write(race: WagerRace, results: list[RaceResult], *, paid: Decimal, now: datetime, force: bool) -> None:
    total = RaceParticipant.objects.filter(race=race, rank__isnull=False).aggregate(t=Sum("wagered"))["t"]
    HistoricalRace.objects.create(
        race=race,
        title=race.title,
        type=race.type,
        month=race.start_date.month,
        year=race.start_date.year,
        prize_pool=race.prize_pool,
        start_date=race.start_date,
        end_date=race.end_date,
        participants=[
            {"rank": r.rank, "uid": r.uid, "name": r.name, "wagered": str(r.wagered), "prize": str(r.prize)}
            for r in results
        ],
        total_wagered=total or Decimal("0"),
        participant_count=len(results),
        status=WagerRace.Status.COMPLETED,
        metadata={
            "prize_distribution": race.prize_distribution,
            "min_wager": str(race.min_wager),
            "measure": race.measure,
            "paid": str(paid),
            "finalized_at": now.isoformat(),
            "forced": force,
        },
    )


def _after_finalize_on_commit(race_id: int) -> None:
    from races.tasks import race_winners_notify_task  # the task module imports this one

    _announce_on_commit(race_id, realtime.race_completed_announce)
    race_winners_notify_task.delay_on_commit(race_id)


def race_winners_notify(race_id: int) -> int:
    """Tell each prize winner once (each result row is claimed): through the notifications service, which
    decides by the winner's preferences where it goes. Winners without a linked account are only marked."""
    told = 0
    results = RaceResult.objects.filter(race_id=race_id, prize__gt=0, notified_at__isnull=True).select_related(
        "race", "player"
    )
    linked = {
        p.pk: p.site_user
        for p in Player.objects.filter(race_results__race_id=race_id, site_user__isnull=False).select_related(
            "site_user"
        )
    }
    for result in results:
        with transaction.atomic():
            if not RaceResult.objects.filter(pk=result.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
                continue  # another worker took this one
            note = notify(
                linked.get(result.player_id), "race.result",
                title=f"You finished #{result.rank} in {result.race.title}",
                body=f"Your prize: {money_text(result.prize)}. Well played!", url=f"/races/{race_id}/",
                dedupe_key=f"race-won:{race_id}",
            )  # fmt: skip
            told += note is not None
    return told


def _shift_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def race_recurrence_create(race: WagerRace) -> WagerRace:
    """The next race of a repeating race: same settings, the next window. Unique ``recurs_from`` = once."""
    start = race.end_date
    if race.recurrence == WagerRace.Recurrence.WEEKLY:
        end = start + timedelta(days=7)
        old_label, new_label = None, None
    else:
        end = _shift_months(race.end_date, 1)
        old_label, new_label = f"{race.start_date:%B %Y}", f"{start:%B %Y}"
    title = race.title.replace(old_label, new_label) if old_label and old_label in race.title else race.title
    return WagerRace.objects.create(
        title=title,
        type=race.type,
        status=WagerRace.Status.UPCOMING,
        prize_pool=race.prize_pool,
        start_date=start,
        end_date=end,
        min_wager=race.min_wager,
        prize_distribution=race.prize_distribution,
        rules=race.rules,
        description=race.description,
        recurrence=race.recurrence,
        recurs_from=race,
    )


@dataclass
class TickReport:
    started: list[int] = field(default_factory=list)
    finalized: list[int] = field(default_factory=list)


def race_tick(*, now: datetime | None = None) -> TickReport:
    """Start races whose start_date has come and finalize those whose end_date has passed. Safe to run often."""
    now = now or timezone.now()
    report = TickReport()
    due_start = WagerRace.objects.filter(status=WagerRace.Status.UPCOMING, start_date__lte=now, end_date__gt=now)
    for race_id in due_start.values_list("pk", flat=True):
        if race_start(race_id, now=now):
            report.started.append(race_id)
    # A race whose whole window passed while upcoming (e.g. the site was down) goes live and is finalized at once.
    missed = WagerRace.objects.filter(status=WagerRace.Status.UPCOMING, end_date__lte=now)
    for race_id in missed.values_list("pk", flat=True):
        if race_start(race_id, now=now):
            report.started.append(race_id)
    due_end = WagerRace.objects.filter(status=WagerRace.Status.LIVE, end_date__lte=now, finalized_at__isnull=True)
    for race_id in due_end.values_list("pk", flat=True):
        if race_finalize(race_id, now=now):
            report.finalized.append(race_id)
    return report


def _announce_on_commit(race_id: int, announce) -> None:
    transaction.on_commit(lambda: announce(race_id))
