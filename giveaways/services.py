"""Raffles: open, count tickets, enter, draw (commit–reveal, DESIGN §7), cancel. A raffle's status changes only here.

Wager raffles are measured by the race engine's rules (races.services.standings: growth over the all-time figure
recorded when the raffle opened, the reset defence; races.models.window_ended: nothing that arrives after the end
counts), from each sync's data inside the sync's transaction (races.signals.feed_synced). The draw writes one
winner row per position exactly once however many workers run it: the status change from `open` is the claim,
and the winner rows are unique per position and per player.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.audit import audit_record, audit_snapshot
from core.errors import Conflict, Forbidden, NotFound
from core.models import AuditEntry
from core.money import money_text
from giveaways import realtime, selectors
from giveaways.draw import Entry, draw_winners, entries_digest
from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from giveaways.selectors import raffle_entries
from notifications.services import announce, notify
from payouts.services import payouts_create_for_raffle
from races.models import Player
from races.prizes import prize_table
from races.services.standings import growth_sql, kept_sql
from vip.selectors import reward_refusal, self_exclusion_refusal, tier_reached

logger = logging.getLogger(__name__)

# Every player with a wager when a wager raffle opens: their all-time figure is the baseline of their growth.
_BASELINE = """
INSERT INTO giveaways_raffleentry
    (raffle_id, player_id, baseline_all_time, measured, tickets, in_draw, entered_at, updated_at)
SELECT %(raffle)s, p.id, p.wager_all_time, 0, 0, FALSE, %(now)s, %(now)s
FROM races_player p
WHERE p.wager_all_time > 0
ON CONFLICT (raffle_id, player_id) DO NOTHING
"""
# Each player's growth inside the window, as a race measures it (never lowered by an upstream reset).
_MEASURE = """
INSERT INTO giveaways_raffleentry
    (raffle_id, player_id, baseline_all_time, measured, tickets, in_draw, entered_at, updated_at)
SELECT %(raffle)s, m.id, m.baseline, m.measured, 0, FALSE, %(now)s, %(now)s
FROM (
    SELECT p.id AS id, COALESCE(e.baseline_all_time, 0) AS baseline, e.id AS e_id, {value} AS measured
    FROM races_player p
    LEFT JOIN giveaways_raffleentry e ON e.player_id = p.id AND e.raffle_id = %(raffle)s
) AS m
WHERE m.measured > 0 OR m.e_id IS NOT NULL
ON CONFLICT (raffle_id, player_id) DO UPDATE SET measured = excluded.measured, updated_at = excluded.updated_at
WHERE giveaways_raffleentry.measured <> excluded.measured
""".replace("{value}", kept_sql(growth_sql("p.wager_all_time", "e.baseline_all_time"), "e.measured"))


class RaffleClosed(Conflict):
    code = "raffle_closed"


def tickets_for(measured: Decimal, ticket_wager: Decimal) -> int:
    """floor(growth / ticket_wager): whole tickets only."""
    if ticket_wager <= 0 or measured <= 0:
        return 0
    return int((measured / ticket_wager).to_integral_value(rounding=ROUND_FLOOR))


def _locked(raffle_id: int) -> Raffle:
    raffle = Raffle.objects.select_for_update().filter(pk=raffle_id).first()
    if raffle is None:
        raise NotFound(f"Raffle {raffle_id} does not exist.")
    return raffle


def _audit(raffle: Raffle, action: str, *, actor, source: str, before: dict | None) -> None:
    audit_record(actor=actor, action=action, target=raffle, before=before, after=audit_snapshot(raffle), source=source)


# --- opening and counting ------------------------------------------------------------------------------------


@transaction.atomic
def raffle_open(
    raffle_id: int, *, now: datetime | None = None, actor=None, source: str = AuditEntry.Source.SYSTEM
) -> bool:
    """upcoming → open once its start has come; a wager raffle records every player's baseline and counts the
    data it already has. False when it was not upcoming or is not due."""
    now = now or timezone.now()
    raffle = _locked(raffle_id)
    if raffle.status != Raffle.Status.UPCOMING or raffle.starts_at > now:
        return False
    before = audit_snapshot(raffle)
    raffle.status = Raffle.Status.OPEN
    raffle.save(update_fields=["status"])
    if not raffle.is_giveaway:
        with connection.cursor() as cursor:
            cursor.execute(_BASELINE, {"raffle": raffle.pk, "now": now})
    _audit(raffle, "raffle.open", actor=actor, source=source, before=before)
    transaction.on_commit(lambda: realtime.raffle_updated_announce(raffle.pk))
    return True


def _tickets_recount(raffle: Raffle, now: datetime) -> int:
    """Tickets from the measured growth, for the entries whose count changed; returns how many changed."""
    changed = []
    for entry in RaffleEntry.objects.filter(raffle=raffle).only("id", "measured", "tickets"):
        tickets = tickets_for(entry.measured, raffle.ticket_wager)
        if tickets != entry.tickets:
            entry.tickets, entry.updated_at = tickets, now
            changed.append(entry)
    RaffleEntry.objects.bulk_update(changed, ["tickets", "updated_at"], batch_size=1000)
    return len(changed)


def raffle_measure(raffle: Raffle, as_of: datetime) -> int:
    """Count one open wager raffle's tickets from the Player table (data that arrived at `as_of`)."""
    with connection.cursor() as cursor:
        cursor.execute(_MEASURE, {"raffle": raffle.pk, "now": as_of})
    return _tickets_recount(raffle, as_of)


def raffles_refresh_after_sync(sender=None, *, as_of: datetime, **kwargs) -> list[int]:
    """Receiver of races.signals.feed_synced (inside the sync's transaction): every open wager raffle whose window
    holds `as_of` counts this data; one that ended before it arrived is left as it was."""
    refreshed = []
    open_now = Raffle.objects.filter(status=Raffle.Status.OPEN, ticket_wager__gt=0, starts_at__lte=as_of)
    for raffle in open_now.filter(Raffle.not_ended_q(as_of)).select_for_update().order_by("pk"):
        if raffle_measure(raffle, as_of):
            refreshed.append(raffle.pk)
    if refreshed:
        transaction.on_commit(lambda: [realtime.raffle_updated_announce(pk) for pk in refreshed])
    return refreshed


# --- giveaways: entering ---------------------------------------------------------------------------------------


@dataclass
class Entered:
    raffle: int
    tickets: int


def raffle_enter(raffle_id: int, user, *, now: datetime | None = None, source: str = AuditEntry.Source.API) -> Entered:
    """A signed-in player enters a giveaway: one ticket. Refusals: not a giveaway, not open, the reward rule
    (confirmed email, verified player), the raffle's tier, already entered."""
    now = now or timezone.now()
    raffle = Raffle.objects.select_related("min_tier").filter(pk=raffle_id).first()
    if raffle is None:
        raise NotFound(f"Raffle {raffle_id} does not exist.")
    excluded = self_exclusion_refusal(user, now)  # before every other rule
    if excluded is not None:
        raise Forbidden(excluded.message, code=excluded.code)
    if not raffle.is_giveaway:
        raise Conflict(
            "This is a wager raffle: tickets come from your wagers on Goated, there is nothing to enter.",
            code="not_a_giveaway",
        )
    if raffle.status != Raffle.Status.OPEN or raffle.starts_at > now or raffle.has_ended(now):
        raise RaffleClosed("This giveaway is not open for entries.")
    refusal = reward_refusal(user)
    if refusal is not None:
        raise Forbidden(refusal.message, code=refusal.code)
    player = user.player
    if raffle.min_tier is not None and not tier_reached(player, raffle.min_tier):
        raise Forbidden(f"This giveaway is for players from {raffle.min_tier.name} up.", code="wager_too_low")
    try:
        with transaction.atomic():
            RaffleEntry.objects.create(
                raffle=raffle, player=player, user=user, baseline_all_time=0, measured=0, tickets=1,
                entered_at=now, updated_at=now,
            )  # fmt: skip
            audit_record(actor=user, action="raffle.enter", target=raffle, after={"player": player.uid}, source=source)
    except IntegrityError:
        raise Conflict("You are already in this giveaway.", code="already_entered") from None
    transaction.on_commit(lambda: realtime.raffle_updated_announce(raffle.pk))
    return Entered(raffle=raffle.pk, tickets=1)


# --- the draw ---------------------------------------------------------------------------------------------------


@dataclass
class Drawn:
    raffle: int
    entries: int = 0
    winners: int = 0
    payouts: int = 0
    already: bool = False


def raffle_draw(
    raffle_id: int, *, now: datetime | None = None, actor=None, source: str = AuditEntry.Source.SYSTEM
) -> Drawn:
    """Draw an open raffle whose window has ended: freeze its entries, publish their digest, pick the winners
    (giveaways.draw), reveal the seed, make a pending payout per paid position. Exactly once: a second call (or
    a concurrent one) finds it drawn and does nothing; a failure leaves it open and unchanged."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _draw(raffle_id, now, actor=actor, source=source)
    except IntegrityError:
        # Another worker wrote this raffle's winners between our read and our write: its draw stands.
        return Drawn(raffle=raffle_id, already=True)


def _draw(raffle_id: int, now: datetime, *, actor, source: str) -> Drawn:
    raffle = _locked(raffle_id)
    if raffle.status != Raffle.Status.OPEN or not raffle.has_ended(now):
        return Drawn(raffle=raffle_id, already=raffle.status == Raffle.Status.DRAWN)
    # The claim: only one draw changes the status from open (SQLite has no row locks; this UPDATE serializes).
    if not Raffle.objects.filter(pk=raffle.pk, status=Raffle.Status.OPEN).update(status=Raffle.Status.DRAWN):
        return Drawn(raffle=raffle_id, already=True)
    before = audit_snapshot(raffle)
    rows = raffle_entries(raffle)
    entries = [Entry(row.uid, row.tickets) for row in rows]
    digest = entries_digest(entries)
    RaffleEntry.objects.filter(raffle=raffle, pk__in=[row.entry_id for row in rows]).update(in_draw=True)
    by_uid = {row.uid: row for row in rows}
    drawn = draw_winners(raffle.server_seed, entries, raffle.winners_count)
    # The winner rows keep the real Goated name (the prize is paid to it; pages show the public one).
    ids = [by_uid[entry.uid].player_id for entry in drawn]
    real_names = dict(Player.objects.filter(pk__in=ids).values_list("pk", "name"))
    prizes = prize_table(raffle.prize_pool, raffle.prize_distribution)
    winners = [
        RaffleWinner(
            raffle=raffle,
            position=position,
            player_id=by_uid[entry.uid].player_id,
            uid=entry.uid,
            name=real_names[by_uid[entry.uid].player_id],
            tickets=entry.tickets,
            prize=prizes.get(position, Decimal("0")),
            created_at=now,
        )
        for position, entry in enumerate(drawn, start=1)
    ]
    RaffleWinner.objects.bulk_create(winners)
    raffle.status, raffle.drawn_at, raffle.entries_digest = Raffle.Status.DRAWN, now, digest
    raffle.entries_count, raffle.tickets_total = len(entries), sum(e.tickets for e in entries)
    raffle.save(update_fields=["status", "drawn_at", "entries_digest", "entries_count", "tickets_total"])
    paid = payouts_create_for_raffle(raffle=raffle, winners=RaffleWinner.objects.filter(raffle=raffle))
    _audit(raffle, "raffle.draw", actor=actor, source=source, before=before)
    transaction.on_commit(lambda: _after_draw(raffle.pk))
    return Drawn(raffle=raffle.pk, entries=len(entries), winners=len(winners), payouts=paid)


def _after_draw(raffle_id: int) -> None:
    realtime.raffle_drawn_announce(raffle_id)
    from giveaways.tasks import raffle_winners_notify_task  # the task module imports this one

    raffle_winners_notify_task.delay_on_commit(raffle_id)


def raffle_winners_notify(raffle_id: int) -> int:
    """Tell each winner once (each row is claimed), and post the draw in the announcement channel once."""
    raffle = Raffle.objects.get(pk=raffle_id)
    winners = selectors.raffle_winners(raffle)
    linked = {
        p.pk: p.site_user
        for p in Player.objects.filter(raffle_wins__raffle=raffle, site_user__isnull=False).select_related("site_user")
    }
    told = 0
    for winner in winners:
        with transaction.atomic():
            if not RaffleWinner.objects.filter(pk=winner.pk, notified_at__isnull=True).update(
                notified_at=timezone.now()
            ):
                continue
            prize = f" Your prize: {money_text(winner.prize)}." if winner.prize > 0 else ""
            note = notify(
                linked.get(winner.player_id), "raffle.won", title=f"You won #{winner.position} in {raffle.title}",
                body=f"Drawn from {raffle.tickets_total:,} tickets.{prize}", url=f"/raffles/{raffle.pk}/",
                dedupe_key=f"raffle-won:{raffle.pk}",
            )  # fmt: skip
            told += note is not None
    names = ", ".join(f"#{w.position} {w.public}" for w in winners) or "no entries, no winners"
    announce(
        f"raffle-drawn:{raffle.pk}", f"🎟 {raffle.title} is drawn: {names}. Check the draw: /raffles/{raffle.pk}/verify/"
    )
    return told


# --- operators -------------------------------------------------------------------------------------------------


@transaction.atomic
def raffle_cancel(raffle_id: int, *, actor, source: str = AuditEntry.Source.ADMIN) -> bool:
    """Cancel a raffle that has not been drawn. False when it was drawn or cancelled already."""
    raffle = _locked(raffle_id)
    if raffle.status in (Raffle.Status.DRAWN, Raffle.Status.CANCELLED):
        return False
    before = audit_snapshot(raffle)
    raffle.status = Raffle.Status.CANCELLED
    raffle.save(update_fields=["status"])
    _audit(raffle, "raffle.cancel", actor=actor, source=source, before=before)
    transaction.on_commit(lambda: realtime.raffle_updated_announce(raffle.pk))
    return True


@dataclass
class TickReport:
    opened: list[int]
    drawn: list[int]


def raffle_tick(*, now: datetime | None = None) -> TickReport:
    """Open the raffles whose start has come and draw those that have ended (each in its own transaction)."""
    now = now or timezone.now()
    report = TickReport(opened=[], drawn=[])
    for pk in Raffle.objects.filter(status=Raffle.Status.UPCOMING, starts_at__lte=now).values_list("pk", flat=True):
        if raffle_open(pk, now=now):
            report.opened.append(pk)
    due = Raffle.objects.filter(status=Raffle.Status.OPEN).exclude(Raffle.not_ended_q(now))
    for pk in due.order_by("ends_at", "pk").values_list("pk", flat=True):
        result = raffle_draw(pk, now=now)
        if not result.already:
            report.drawn.append(pk)
    return report
