"""Race lifecycle: upcoming → live → completed (finalized exactly once), or cancelled; prizes; recurrence."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Notification
from goatedvips.errors import Conflict, NotFound
from races.models import HistoricalRace, Player, RaceParticipant, RaceResult, WagerRace
from races.standings import race_baselines_record, race_standings_recompute
from races.validators import parse_prize_distribution

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")


def prize_table(prize_pool: Decimal, distribution: dict) -> dict[int, Decimal]:
    """Prize per rank: pool × pct / 100, rounded down to cents, so the total never exceeds the pool."""
    return {
        rank: (prize_pool * pct / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)
        for rank, pct in parse_prize_distribution(distribution).items()
    }


def _get(race_id: int) -> WagerRace:
    try:
        return WagerRace.objects.get(pk=race_id)
    except WagerRace.DoesNotExist:
        raise NotFound(f"Race {race_id} does not exist.") from None


@transaction.atomic
def race_start(race_id: int, *, now: datetime | None = None) -> bool:
    """upcoming → live. Returns False if another caller started it first (or it is not upcoming)."""
    now = now or timezone.now()
    claimed = WagerRace.objects.filter(pk=race_id, status=WagerRace.Status.UPCOMING).update(
        status=WagerRace.Status.LIVE, went_live_at=now, updated_at=now
    )
    if not claimed:
        return False
    race_baselines_record(_get(race_id), now)
    _announce_on_commit(race_id, "race_updated_announce")
    logger.info("race %s is live", race_id)
    return True


@transaction.atomic
def race_cancel(race_id: int) -> None:
    race = _get(race_id)
    claimed = WagerRace.objects.filter(
        pk=race_id, status__in=[WagerRace.Status.UPCOMING, WagerRace.Status.LIVE]
    ).update(status=WagerRace.Status.CANCELLED, updated_at=timezone.now())
    if not claimed:
        raise Conflict(f"“{race.title}” is {race.get_status_display().lower()} and can no longer be cancelled.")
    _announce_on_commit(race_id, "race_updated_announce")


def race_recompute(race_id: int) -> int:
    """Recompute a live race's standings from the current Player rows (operators' "recompute" action)."""
    with transaction.atomic():
        race = WagerRace.objects.select_for_update().get(pk=race_id)
        if race.status != WagerRace.Status.LIVE:
            raise Conflict("Only a live race can be recomputed; a finished race keeps its frozen standings.")
        changed = race_standings_recompute(race, timezone.now())
    _announce_on_commit(race_id, "race_updated_announce")
    return changed


@dataclass
class Finalization:
    race_id: int
    results: int = 0
    paid: Decimal = Decimal("0")
    winners_notified: int = 0
    next_race_id: int | None = None
    messages: list[str] = field(default_factory=list)


def race_finalize(race_id: int, *, now: datetime | None = None, force: bool = False) -> Finalization | None:
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
                prize=prizes.get(p.rank, Decimal("0")) if p.prize_eligible else Decimal("0"),
                prize_eligible=p.prize_eligible,
            )
            for p in standings
        ]
        RaceResult.objects.bulk_create(results, batch_size=1000)
        report.results = len(results)
        report.paid = sum((r.prize for r in results), Decimal("0"))
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
                "paid": str(report.paid),
                "finalized_at": now.isoformat(),
                "forced": force,
            },
        )
        report.winners_notified = _notify_winners_in_site(race, results)
        if race.recurrence != WagerRace.Recurrence.NONE:
            report.next_race_id = race_recurrence_create(race).pk
        _after_finalize_on_commit(race.pk)
    logger.info("race %s finalized: %s results, %s paid", race_id, report.results, report.paid)
    return report


def _notify_winners_in_site(race: WagerRace, results: list[RaceResult]) -> int:
    """One in-site notification per prize winner with a linked account (the dedupe key makes it once)."""
    winners = [r for r in results if r.prize > 0]
    users = {
        p.pk: p.site_user
        for p in Player.objects.filter(pk__in=[r.player_id for r in winners], site_user__isnull=False).select_related(
            "site_user"
        )
    }
    notes = [
        Notification(
            user=users[r.player_id],
            kind=Notification.Kind.RACE,
            title=f"You finished #{r.rank} in {race.title}",
            body=f"Your prize: ${r.prize:,.2f}. Well played!",
            url=f"/races/{race.pk}/",
            dedupe_key=f"race-won:{race.pk}",
        )
        for r in winners
        if r.player_id in users
    ]
    created = Notification.objects.bulk_create(notes, ignore_conflicts=True)

    def push() -> None:
        from accounts.realtime import notification_announce

        # ignore_conflicts leaves pk unset on some backends: re-read what this finalization wrote.
        for note in Notification.objects.filter(dedupe_key=f"race-won:{race.pk}", read_at__isnull=True):
            notification_announce(note)

    if created:
        transaction.on_commit(push)
    return len(notes)


def _after_finalize_on_commit(race_id: int) -> None:
    from races.tasks import race_winners_notify_task

    _announce_on_commit(race_id, "race_completed_announce")
    race_winners_notify_task.delay_on_commit(race_id)


def race_winners_notify(race_id: int) -> int:
    """Tell each winner once (claimed per row): a Telegram DM where linked and allowed by their preferences (the
    in-site notification was written at finalization)."""
    from telegram_bot.tasks import telegram_message_send_task

    sent = 0
    results = RaceResult.objects.filter(race_id=race_id, prize__gt=0, notified_at__isnull=True).select_related(
        "race", "player__site_user__notification_preferences"
    )
    for result in results:
        if not RaceResult.objects.filter(pk=result.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
            continue
        sent += 1
        user = getattr(result.player, "site_user", None)
        prefs = getattr(user, "notification_preferences", None) if user else None
        if user and user.telegram_id and (prefs is None or (prefs.push_notifications and prefs.wager_race_updates)):
            text = f"🏆 You finished #{result.rank} in {result.race.title}! Your prize: ${result.prize:,.2f}."
            telegram_message_send_task.delay_on_commit(user.telegram_id, text)
    return sent


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


def _announce_on_commit(race_id: int, event: str) -> None:
    from races import realtime

    transaction.on_commit(lambda: getattr(realtime, event)(race_id))
