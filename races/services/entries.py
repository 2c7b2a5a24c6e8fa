"""Joining an opt-in race (on the site, with /join in the bot, or by the API): the entry rules in one place."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, NotFound, ServiceError
from races import realtime
from races.models import Player, RaceEntry, WagerRace
from races.services.standings import race_standings_recompute


class JoinRefused(ServiceError):
    status_code = 409
    code = "join_refused"


def race_join(race_id: int, *, player: Player | None, user=None, source: str = RaceEntry.Source.SITE) -> RaceEntry:
    """`player` joins opt-in race `race_id`. Refused with a clear reason: not an opt-in race, over, full, below
    the race's tier, or no Goated account linked. Joining twice returns the first entry."""
    if player is None:
        raise JoinRefused("Link your Goated account first (Account → Goated account).", code="not_linked")
    with transaction.atomic():
        # Lock the race row with a write (a row lock on PostgreSQL, the write lock on SQLite, where SELECT ...
        # FOR UPDATE does not exist): the count and the insert below are then one step for every joiner.
        WagerRace.objects.filter(pk=race_id).update(updated_at=F("updated_at"))
        race = WagerRace.objects.select_related("min_tier").filter(pk=race_id).first()
        if race is None:
            raise NotFound("No such race.")
        existing = RaceEntry.objects.filter(race=race, player=player).first()
        if existing is not None:
            return existing
        if race.entry != WagerRace.Entry.OPT_IN:
            raise JoinRefused("Everyone counts in this race: there is nothing to join.", code="not_opt_in")
        if race.status not in (WagerRace.Status.UPCOMING, WagerRace.Status.LIVE):
            raise Conflict(f"This race is {race.get_status_display().lower()}: it cannot be joined.", code="race_over")
        if race.min_tier_id and player.wager_all_time < race.min_tier.min_wager:
            raise JoinRefused(f"This race is for {race.min_tier.name} players and above.", code="tier_too_low")
        if race.max_participants is not None and race.entries.count() >= race.max_participants:
            raise JoinRefused(f"This race is full: all {race.max_participants} places are taken.", code="race_full")
        try:
            with transaction.atomic():
                entry = RaceEntry.objects.create(race=race, player=player, user=user, source=source)
        except IntegrityError:  # the same player joining twice at once
            return RaceEntry.objects.get(race=race, player=player)
        if race.status == WagerRace.Status.LIVE:
            race_standings_recompute(race, timezone.now())
            transaction.on_commit(lambda: realtime.race_updated_announce(race.pk))
    return entry
