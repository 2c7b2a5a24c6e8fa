"""Joining an opt-in race (on the site, with /join in the bot, or by the API): the entry rules in one place."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, Forbidden, NotFound, ServiceError
from races import realtime
from races.models import Player, RaceEntry, WagerRace
from races.selectors.races import JoinRefusal, race_join_refusal
from races.services.standings import race_standings_recompute


class JoinRefused(ServiceError):
    status_code = 409
    code = "join_refused"


def _refused(refusal: JoinRefusal) -> ServiceError:
    if refusal.code == "race_over":  # the code a finished race answers with everywhere
        return Conflict(refusal.message, code=refusal.code)
    if refusal.code == "self_excluded":  # 403, as every reward and entry path answers it
        return Forbidden(refusal.message, code=refusal.code)
    return JoinRefused(refusal.message, code=refusal.code)


def race_join(race_id: int, *, player: Player | None, user=None, source: str = RaceEntry.Source.SITE,
              now: datetime | None = None) -> RaceEntry:  # fmt: skip
    """`player` joins opt-in race `race_id` at `now`. Refused with a clear reason: not an opt-in race, over (by
    status or by the clock: after end_date, even before the tick finalizes it), full, below the race's tier, or
    no Goated account linked. Joining twice returns the first entry."""
    now = now or timezone.now()
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
        refusal = race_join_refusal(race, player, now=now)
        if refusal is not None:
            raise _refused(refusal)
        try:
            with transaction.atomic():
                entry = RaceEntry.objects.create(race=race, player=player, user=user, source=source, joined_at=now)
        except IntegrityError:  # the same player joining twice at once
            return RaceEntry.objects.get(race=race, player=player)
        if race.status == WagerRace.Status.LIVE:
            race_standings_recompute(race, now)
            transaction.on_commit(lambda: realtime.race_updated_announce(race.pk))
    return entry
