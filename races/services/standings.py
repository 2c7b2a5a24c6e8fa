"""Live race standings, refreshed from the Player table by every successful sync.

One SQL statement per step, the same text on PostgreSQL and SQLite (both speak INSERT ... ON CONFLICT DO
UPDATE, window functions and UPDATE ... FROM), so there is one code path to test.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from core.money import cents
from notifications.services import announce, notify
from races import realtime
from races.feed.names import player_public_name
from races.models import Player, RaceMeasure, RaceParticipant, RaceProgressSample, WagerRace
from vip.selectors import tier_reached_sql

logger = logging.getLogger(__name__)


def kept_sql(figure: str, previous: str) -> str:
    """The reset defence, as SQL: a figure never goes down inside the window that counts it. When it does,
    upstream reset it (or sent a partial figure), and what was measured before (`previous`, NULL when nothing
    was) is kept (docs/races.md, "Time"). Races and raffles both measure through it."""
    return f"CASE WHEN {previous} IS NOT NULL AND {figure} < {previous} THEN {previous} ELSE {figure} END"


def growth_sql(all_time: str, baseline: str) -> str:
    """Wager growth since a window opened, as SQL: the all-time figure over the one recorded at the start (none
    recorded: a player new to the feed, all of it), never negative."""
    return f"CASE WHEN {all_time} > COALESCE({baseline}, 0) THEN {all_time} - COALESCE({baseline}, 0) ELSE 0 END"


_VALUE = {
    RaceMeasure.MONTH: kept_sql("p.wager_month", "rp.measured"),
    RaceMeasure.WEEK: kept_sql("p.wager_week", "rp.measured"),
    RaceMeasure.GROWTH: growth_sql("p.wager_all_time", "rp.baseline_all_time"),
}
# Who counts in a race (its entry rules, docs/races.md "Entry"): everyone, or those who joined an opt-in race;
# and with a minimum tier, only players whose all-time wager reaches it.
_JOINED = "EXISTS (SELECT 1 FROM races_raceentry e WHERE e.race_id = %(race)s AND e.player_id = p.id)"
_TIER = tier_reached_sql("p.wager_all_time", "CAST(%(tier_wager)s AS NUMERIC)")

# measured: the feed's figure for a player who counts (else 0); wagered: measured + the operators' adjustments,
# never below zero, and only for a player who counts.
_UPSERT = """
INSERT INTO races_raceparticipant
    (race_id, player_id, measured, adjustment, wagered, baseline_all_time, prize_eligible, joined_at, updated_at)
SELECT %(race)s, m.id, m.measured, m.adjustment, m.wagered, m.baseline,
       CASE WHEN m.wagered > 0 AND m.wagered >= CAST(%(min_wager)s AS NUMERIC) THEN TRUE ELSE FALSE END,
       %(now)s, %(now)s
FROM (
    SELECT c.id, c.rp_id, c.baseline, c.adjustment, c.measured,
           CASE WHEN c.counts = 1 AND c.measured + c.adjustment > 0 THEN c.measured + c.adjustment ELSE 0 END
               AS wagered
    FROM (
        SELECT p.id AS id, rp.id AS rp_id, COALESCE(rp.baseline_all_time, 0) AS baseline,
               COALESCE(rp.adjustment, 0) AS adjustment,
               CASE WHEN {counts} THEN 1 ELSE 0 END AS counts,
               CASE WHEN {counts} THEN {value} ELSE 0 END AS measured
        FROM races_player p
        LEFT JOIN races_raceparticipant rp ON rp.player_id = p.id AND rp.race_id = %(race)s
    ) AS c
) AS m
WHERE m.measured > 0 OR m.rp_id IS NOT NULL
ON CONFLICT (race_id, player_id) DO UPDATE SET
    measured = excluded.measured, wagered = excluded.wagered, prize_eligible = excluded.prize_eligible,
    updated_at = excluded.updated_at
WHERE races_raceparticipant.wagered <> excluded.wagered
   OR races_raceparticipant.measured <> excluded.measured
   OR races_raceparticipant.prize_eligible <> excluded.prize_eligible
"""

_RANK = """
UPDATE races_raceparticipant SET rank = ranked.rn
FROM (
    SELECT rp.id AS id,
           ROW_NUMBER() OVER (ORDER BY rp.wagered DESC, p.first_seen ASC, p.uid ASC) AS rn
    FROM races_raceparticipant rp JOIN races_player p ON p.id = rp.player_id
    WHERE rp.race_id = %(race)s AND rp.wagered > 0
) AS ranked
WHERE races_raceparticipant.id = ranked.id
  AND (races_raceparticipant.rank IS NULL OR races_raceparticipant.rank <> ranked.rn)
"""

# Players whose counter fell below their standing in this race (an upstream reset), counted before the upsert.
_RESETS = """
SELECT COUNT(*) FROM races_raceparticipant rp JOIN races_player p ON p.id = rp.player_id
WHERE rp.race_id = %(race)s AND {counter} < rp.measured
"""
_COUNTER = {RaceMeasure.MONTH: "p.wager_month", RaceMeasure.WEEK: "p.wager_week"}

_UNRANK = """
UPDATE races_raceparticipant SET rank = NULL
WHERE race_id = %(race)s AND wagered <= 0 AND rank IS NOT NULL
"""

# A new leader is posted in the community channel at most once in this many seconds per race.
LEADER_POST_GAP_SECONDS = 15 * 60

_TOTAL = """
UPDATE races_wagerrace SET standings_total = (
    SELECT COUNT(*) FROM races_raceparticipant WHERE race_id = %(race)s AND rank IS NOT NULL
) WHERE id = %(race)s
"""

_BASELINE = """
INSERT INTO races_raceparticipant
    (race_id, player_id, measured, adjustment, wagered, baseline_all_time, prize_eligible, joined_at, updated_at)
SELECT %(race)s, p.id, 0, 0, 0, p.wager_all_time, FALSE, %(now)s, %(now)s
FROM races_player p
WHERE p.wager_all_time > 0
ON CONFLICT (race_id, player_id) DO NOTHING
"""


def race_baselines_record(race: WagerRace, now: datetime) -> int:
    """Remember every player's all-time wager when a growth-measured race goes live."""
    if race.measure != RaceMeasure.GROWTH:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_BASELINE, {"race": race.pk, "now": now})
        return max(cursor.rowcount, 0)


def race_counter_resets(race: WagerRace) -> int:
    """How many players' period counters are now below their standing in `race` (0 for growth races)."""
    counter = _COUNTER.get(race.measure)
    if counter is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_RESETS.format(counter=counter), {"race": race.pk})
        return cursor.fetchone()[0]


def race_standings_recompute(race: WagerRace, now: datetime) -> int:
    """Recompute one race's participants and ranks from the Player table; returns rows changed."""
    params = {"race": race.pk, "min_wager": race.min_wager, "now": now}
    rules = []
    if race.entry == WagerRace.Entry.OPT_IN:
        rules.append(_JOINED)
    if race.min_tier_id is not None:
        rules.append(_TIER)
        params["tier_wager"] = race.min_tier.min_wager
    counts = " AND ".join(rules) or "1 = 1"
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(value=_VALUE[race.measure], counts=counts), params)
        changed = max(cursor.rowcount, 0)
        cursor.execute(_RANK, params)
        changed += max(cursor.rowcount, 0)
        cursor.execute(_UNRANK, params)
        changed += max(cursor.rowcount, 0)
        cursor.execute(_TOTAL, params)
    return changed


@dataclass
class RefreshReport:
    races: list[int] = field(default_factory=list)  # the live races whose standings were refreshed
    resets: dict[int, int] = field(default_factory=dict)  # race → players whose counter went down (kept)
    ended: list[int] = field(default_factory=list)  # still live, but ended before this data arrived: untouched


@transaction.atomic
def races_refresh_after_sync(as_of: datetime) -> RefreshReport:
    """Called inside a successful sync's transaction. Updates every race that is live at ``as_of``.

    ``as_of`` is when the feed data arrived. A race whose end_date is before it is left alone: its standings stay
    those of the last sync that arrived at or before its end, which is what finalization freezes.
    """
    report = RefreshReport()
    live = WagerRace.objects.filter(status=WagerRace.Status.LIVE)
    report.ended = list(live.exclude(WagerRace.not_ended_q(as_of)).order_by("pk").values_list("pk", flat=True))
    races = live.filter(WagerRace.not_ended_q(as_of), start_date__lte=as_of)
    # Row locks serialize this with finalization: a race being finalized waits for, or skips, this sync.
    for race in races.select_for_update():
        leader_before = _leader(race)
        resets = race_counter_resets(race)
        if resets:
            report.resets[race.pk] = resets
            logger.warning(
                "race %s: %s player(s) whose %s counter went down inside the race (an upstream reset); "
                "their standings keep the last value", race.pk, resets, race.measure,
            )  # fmt: skip
        race_standings_recompute(race, as_of)
        race_progress_sample(race, as_of)
        leader_after = _leader(race)
        if leader_after is not None and leader_before is not None and leader_after != leader_before:
            race_new_leader_notify(race, leader_after, previous_id=leader_before, at=as_of)
        report.races.append(race.pk)
    if report.races:
        refreshed = list(report.races)
        transaction.on_commit(lambda: [realtime.race_updated_announce(pk) for pk in refreshed])
    return report


def _leader(race: WagerRace) -> int | None:
    """The player in first place among those eligible for a prize."""
    return (
        RaceParticipant.objects.filter(race=race, rank__isnull=False, prize_eligible=True)
        .order_by("rank")
        .values_list("player_id", flat=True)
        .first()
    )


def race_new_leader_notify(
    race: WagerRace, player_id: int, *, previous_id: int | None = None, at: datetime | None = None
) -> None:
    """A new player leads a live race: they are told (once per race: a tug of war at the top floods no one),
    the player they passed is told they were overtaken (once per race and rival), and the announcement channel
    gets one post per race and leader. The notifications service decides by preferences where each one goes."""
    players = {p.pk: p for p in Player.objects.filter(pk__in=[player_id, previous_id]).select_related("site_user")}
    leader, previous = players.get(player_id), players.get(previous_id)
    if leader is None:
        return
    user = getattr(leader, "site_user", None)
    notify(
        user, "race.lead", title=f"You took the lead in {race.title}!", body="Keep it up!",
        url=f"/races/{race.pk}/", dedupe_key=f"race-lead:{race.pk}",
    )  # fmt: skip
    if previous is not None and getattr(previous, "site_user", None) is not None:
        notify(
            previous.site_user, "race.overtaken", title=f"{player_public_name(leader)} overtook you in {race.title}",
            body="You are second now. The race is still on!", url=f"/races/{race.pk}/",
            dedupe_key=f"race-overtaken:{race.pk}:{leader.pk}",
        )  # fmt: skip
    announce(f"race-leader:{race.pk}:{leader.pk}", f"🥇 {player_public_name(leader)} now leads {race.title}.",
             gap_key=f"race-leader:{race.pk}", gap_seconds=LEADER_POST_GAP_SECONDS, at=at)  # fmt: skip


def race_standings_top(race: WagerRace, limit: int) -> list[RaceParticipant]:
    return list(
        RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player").order_by("rank")[:limit]
    )


def race_progress_sample(race: WagerRace, taken_at: datetime) -> RaceProgressSample | None:
    """Keep a compact top-N sample, at most one per (race duration / max samples)."""
    if race.has_ended(taken_at):
        return None  # data after the end never enters the race's chart
    top_n: int = settings.RACE_PROGRESS_TOP_N
    spacing = (race.end_date - race.start_date) / settings.RACE_PROGRESS_MAX_SAMPLES
    last = race.progress_samples.order_by("-taken_at").values_list("taken_at", flat=True).first()
    if last is not None and taken_at - last < max(spacing, timedelta(seconds=1)):
        return None
    standings = [[p.player.uid, p.player.name, str(cents(p.wagered)), p.rank] for p in race_standings_top(race, top_n)]
    return RaceProgressSample.objects.create(race=race, taken_at=taken_at, standings=standings)
