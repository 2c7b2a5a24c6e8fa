"""Reads on wager races: lists, the current race, standings with prizes, a player's position, results, progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from core.errors import NotFound
from core.money import cents
from races.feed.names import public_name_expr
from races.models import Player, RaceParticipant, RaceProgressSample, RaceResult, WagerRace
from races.prizes import prize_for, prize_table
from races.validators import parse_prize_distribution
from vip.selectors import TierTable, tier_reached


@dataclass
class StandingRow:
    rank: int
    uid: str
    name: str
    wagered: Decimal  # cut to cents
    prize: Decimal
    prize_eligible: bool
    all_time: Decimal | None = None  # the player's all-time wager now: their VIP tier (the podium's frame colour)


# --- which race -----------------------------------------------------------------------------------------------


def race_current(race_type: str | None = WagerRace.Type.MONTHLY) -> WagerRace | None:
    """The race that is on now: the live race of `race_type` (of any type when None) that ends first.

    The one definition of "the current race", for the home page, `/races/current/`, the API and the bot.
    """
    races = WagerRace.objects.filter(status=WagerRace.Status.LIVE)
    if race_type:
        races = races.filter(type=race_type)
    return races.order_by("end_date", "pk").first()


def race_next(race_type: str | None = WagerRace.Type.MONTHLY) -> WagerRace | None:
    """The upcoming race of `race_type` (any type when None) that starts first."""
    races = WagerRace.objects.filter(status=WagerRace.Status.UPCOMING)
    if race_type:
        races = races.filter(type=race_type)
    return races.order_by("start_date", "pk").first()


def race_list(*, status: str | None = None, race_type: str | None = None) -> QuerySet[WagerRace]:
    races = WagerRace.objects.all()
    if status:
        races = races.filter(status=status)
    if race_type:
        races = races.filter(type=race_type)
    return races.order_by("-start_date", "-pk")


def race_get(race_id: int) -> WagerRace:
    race = WagerRace.objects.select_related("min_tier").filter(pk=race_id).first()
    if race is None:
        raise NotFound(f"Race {race_id} does not exist.")
    return race


def races_live() -> list[WagerRace]:
    return list(WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("end_date"))


def races_upcoming() -> list[WagerRace]:
    return list(WagerRace.objects.filter(status=WagerRace.Status.UPCOMING).order_by("start_date")[:10])


def race_archive() -> QuerySet[WagerRace]:
    """Completed races, newest first, with what the archive list shows: the player count is the race's
    `standings_total` (its number of results, written at finalization), not a count over the results."""
    fields = ("title", "type", "end_date", "prize_pool", "standings_total")
    return WagerRace.objects.filter(status=WagerRace.Status.COMPLETED).only(*fields).order_by("-end_date", "-pk")


def race_time_left(race: WagerRace, now: datetime | None = None) -> int:
    now = now or timezone.now()
    if race.status in (WagerRace.Status.COMPLETED, WagerRace.Status.CANCELLED):
        return 0
    return max(int((race.end_date - now).total_seconds()), 0)


def race_prize_rows(race: WagerRace) -> list[dict]:
    percents = parse_prize_distribution(race.prize_distribution)
    amounts = prize_table(race.prize_pool, race.prize_distribution)
    return [{"rank": rank, "percent": percents[rank], "amount": amounts[rank]} for rank in sorted(percents)]


# --- standings ------------------------------------------------------------------------------------------------


# The name a row shows is the public one (races.feed.names), of the result's snapshot or the live player.
_RESULT_FIELDS = ("rank", "uid", "public", "wagered", "prize", "prize_eligible", "player__wager_all_time")
_LIVE_FIELDS = ("rank", "player__uid", "public", "wagered", "prize_eligible", "player__wager_all_time")


def _result_rows(results) -> list[StandingRow]:
    """Rows of final results, reading only the columns a row shows."""
    return [
        StandingRow(rank, uid, name, cents(wagered), prize, eligible, all_time)
        for rank, uid, name, wagered, prize, eligible, all_time in results.annotate(
            public=public_name_expr("name", "player")
        ).values_list(*_RESULT_FIELDS)
    ]


def _live_rows(participants, prizes: dict[int, Decimal]) -> list[StandingRow]:
    """Rows of live standings with the prize each rank would win, reading only the columns a row shows (model
    instances of participants and players carry a dozen fields each)."""
    return [
        StandingRow(rank, uid, name, cents(wagered), prize_for(prizes, rank, eligible), eligible, all_time)
        for rank, uid, name, wagered, eligible, all_time in participants.annotate(
            public=public_name_expr("player__name", "player")
        ).values_list(*_LIVE_FIELDS)
    ]


def race_standings(race: WagerRace, *, limit: int = 50, offset: int = 0) -> tuple[int, list[StandingRow]]:
    """Frozen results for a completed race, live standings (with the prize each rank would win) otherwise."""
    if race.status == WagerRace.Status.COMPLETED:
        results = RaceResult.objects.filter(race=race).order_by("rank")
        return race.standings_total, _result_rows(results[offset : offset + limit])
    prizes = prize_table(race.prize_pool, race.prize_distribution)
    participants = RaceParticipant.objects.filter(race=race, rank__isnull=False).order_by("rank")
    return race.standings_total, _live_rows(participants[offset : offset + limit], prizes)


def race_around(
    race: WagerRace, uid: str | None, n: int = 5, *, player_id: int | None = None
) -> tuple[int, int | None, list[StandingRow]]:
    """(total, the player's rank, rows from rank - n to rank + n) in a race: live standings or, once completed,
    the frozen results. Rank None and no rows when the player has not wagered in it; an unknown uid is NotFound.
    Through the (race, rank) indexes: the same queries at rank 1 of 10 or rank 99,000 of 100,000. Pages pass the
    signed-in user's `player_id` instead of a uid (no lookup of the uid)."""
    player = player_id if player_id is not None else Player.objects.filter(uid=uid).values_list("pk", flat=True).first()
    if player is None:
        raise NotFound("No player with that uid in the feed.")
    completed = race.status == WagerRace.Status.COMPLETED
    ranked = (RaceResult if completed else RaceParticipant).objects.filter(race=race, rank__isnull=False)
    # (race, player) is unique: one row at most, no ordering needed (a default ordering would join the race).
    mine = next(iter(ranked.filter(player_id=player).order_by().values_list("rank", flat=True)[:1]), None)
    if mine is None:
        return race.standings_total, None, []
    near = ranked.filter(rank__gte=max(mine - n, 1), rank__lte=mine + n).order_by("rank")
    if completed:
        return race.standings_total, mine, _result_rows(near)
    return race.standings_total, mine, _live_rows(near, prize_table(race.prize_pool, race.prize_distribution))


def player_live_races(player_id: int) -> list[dict]:
    """The live races a player is ranked in, with rank, total, wager and the prize that rank pays (one query)."""
    entries = list(
        RaceParticipant.objects.filter(player_id=player_id, rank__isnull=False, race__status=WagerRace.Status.LIVE)
        .select_related("race")
        .order_by("race__end_date")
    )
    rows = []
    for entry in entries:
        race = entry.race
        prize = prize_for(prize_table(race.prize_pool, race.prize_distribution), entry.rank, entry.prize_eligible)
        rows.append({"race_id": race.pk, "title": race.title, "rank": entry.rank,
                     "standings_total": race.standings_total, "wagered": cents(entry.wagered), "prize": prize,
                     "end_date": race.end_date})  # fmt: skip
    return rows


@dataclass
class RacePosition:
    """A player's place in a live race and what it takes to climb (the bot's /race, "you are here" blocks)."""

    row: StandingRow
    around: list[StandingRow]  # the rows from rank - n to rank + n, the player's own included
    target: StandingRow | None  # the row to pass next: the nearest better rank that pays more, else the one above

    @property
    def gap(self) -> Decimal:
        return self.target.wagered - self.row.wagered if self.target else Decimal("0")


def race_position(race: WagerRace, player_id: int, *, n: int = 1) -> RacePosition | None:
    """Where a player stands in a live race (None if they have not wagered in it); a fixed number of queries,
    through the (race, rank) index."""
    entry = RaceParticipant.objects.filter(race=race, player_id=player_id, rank__isnull=False).first()
    if entry is None:
        return None
    prizes = prize_table(race.prize_pool, race.prize_distribution)
    near = RaceParticipant.objects.filter(race=race, rank__gte=max(entry.rank - n, 1), rank__lte=entry.rank + n)
    around = _live_rows(near.order_by("rank"), prizes)
    row = next(r for r in around if r.rank == entry.rank)
    mine = prize_for(prizes, entry.rank, entry.prize_eligible)
    better = [rank for rank, amount in prizes.items() if rank < entry.rank and amount > mine]
    target_rank = max(better) if better else entry.rank - 1
    target = None
    if target_rank >= 1:
        target = next((r for r in around if r.rank == target_rank), None)
        if target is None:
            ahead = _live_rows(RaceParticipant.objects.filter(race=race, rank=target_rank).order_by()[:1], prizes)
            target = ahead[0] if ahead else None
    return RacePosition(row=row, around=around, target=target)


def race_results(race: WagerRace) -> list[StandingRow]:
    """Every final result of a race, with public names."""
    return _result_rows(RaceResult.objects.filter(race=race).order_by("rank"))


def race_progress(race: WagerRace) -> list[RaceProgressSample]:
    """The samples, their stored names replaced by today's public ones (a choice made later applies to them)."""
    samples = list(RaceProgressSample.objects.filter(race=race).order_by("taken_at"))
    uids = {row[0] for sample in samples for row in sample.standings}
    public = dict(Player.objects.filter(uid__in=uids).annotate(public=public_name_expr()).values_list("uid", "public"))
    for sample in samples:
        sample.standings = [[uid, public.get(uid, name), *rest] for uid, name, *rest in sample.standings]
    return samples


# --- export ---------------------------------------------------------------------------------------------------

CSV_HEADER = ["race_id", "race_title", "race_status", "rank", "uid", "name", "wagered", "prize", "prize_eligible"]


def races_standings_csv_rows(race_ids: list[int]):
    """Rows for the CSV export: final results of completed races, live standings (with would-be prizes) else.
    Raw values: `core.csv_export` writes them (names come from an untrusted feed; it keeps them from being formulas)."""
    yield CSV_HEADER
    for race in WagerRace.objects.filter(pk__in=race_ids).order_by("-start_date", "pk"):
        offset, page = 0, 1000
        while True:
            _total, rows = race_standings(race, limit=page, offset=offset)
            for r in rows:
                yield [race.pk, race.title, race.status, r.rank, r.uid, r.name, r.wagered, r.prize, r.prize_eligible]
            if len(rows) < page:
                break
            offset += page


@dataclass(frozen=True)
class JoinRefusal:
    """Why a player may not join a race: `code` for programs (the API's error code), `message` for people."""

    code: str
    message: str


def race_join_refusal(
    race: WagerRace, player: Player | None, *, now: datetime, entries: int | None = None
) -> JoinRefusal | None:
    """The entry rules of a race, in one order for the service, the race page and the bot (None: may join).
    `entries` is the race's entry count when the caller has it (the service counts under the race's lock)."""
    if player is None:
        return JoinRefusal("not_linked", "Link your Goated account first (Account → Goated account).")
    if player.hidden_until is not None and player.hidden_until > now:  # self-excluded (accounts.selfexclusion)
        return JoinRefusal("self_excluded", "You chose to step away: races cannot be joined until it ends.")
    if race.entry != WagerRace.Entry.OPT_IN:
        return JoinRefusal("not_opt_in", "Everyone counts in this race: there is nothing to join.")
    if race.status not in WagerRace.OPEN_STATUSES:
        return JoinRefusal("race_over", f"This race is {race.get_status_display().lower()}: it cannot be joined.")
    if race.has_ended(now):
        return JoinRefusal("race_over", "This race has ended: it cannot be joined.")
    if race.min_tier_id and not tier_reached(player, race.min_tier):
        return JoinRefusal("tier_too_low", f"This race is for {race.min_tier.name} players and above.")
    if race.max_participants is not None:
        taken = race.entries.count() if entries is None else entries
        if taken >= race.max_participants:
            return JoinRefusal("race_full", f"This race is full: all {race.max_participants} places are taken.")
    return None


@dataclass
class EntryState:
    """What the race page says about taking part: the race's entry rules and where the viewer stands."""

    opt_in: bool
    joined: bool = False
    can_join: bool = False
    why_not: str = ""
    entries: int = 0
    cap: int | None = None
    min_tier: str = ""
    payout: object | None = None  # the viewer's payouts.Payout for a completed race (read by relation)


def race_entry_state(race: WagerRace, user) -> EntryState:
    state = EntryState(opt_in=race.entry == WagerRace.Entry.OPT_IN, cap=race.max_participants,
                       min_tier=race.min_tier.name if race.min_tier_id else "")  # fmt: skip
    if state.opt_in:
        state.entries = race.entries.count()
    player_id = getattr(user, "player_id", None) if getattr(user, "is_authenticated", False) else None
    if player_id and race.status == WagerRace.Status.COMPLETED:  # prizes are paid once a race is final
        state.payout = race.payouts.filter(player_id=player_id).first()
    if not state.opt_in:
        return state
    state.joined = bool(player_id) and race.entries.filter(player_id=player_id).exists()
    now = timezone.now()
    if state.joined or race.status not in WagerRace.OPEN_STATUSES or race.has_ended(now):
        return state
    if not getattr(user, "is_authenticated", False):
        state.why_not = "sign_in"
        return state
    refusal = race_join_refusal(race, user.player if player_id else None, now=now, entries=state.entries)
    state.why_not = refusal.code if refusal else ""
    state.can_join = refusal is None
    return state


def podium_tier_colors(rows: list[StandingRow]) -> dict[str, str]:
    """uid → the colour of the VIP tier each podium player's all-time wager reaches (read with the standings: no
    query of its own; the tier table is cached)."""
    table = TierTable()
    colors = {}
    for row in rows:
        tier = table.tier_for(row.all_time) if row.all_time is not None else None
        if tier is not None:
            colors[row.uid] = tier.badge_color
    return colors


def race_here(race: WagerRace, player_id: int | None, n: int = 2) -> dict | None:
    """The signed-in player's block of a race page: their rank, the rows n above and below, and — in a live race —
    their RacePosition (what it takes to climb, the card "you are #14 — $312.40 to the next prize"). None when
    nobody is signed in with a linked player."""
    if player_id is None:
        return None
    if race.status == WagerRace.Status.LIVE:
        position = race_position(race, player_id, n=n)
        if position is None:
            return {"rank": None, "rows": [], "uid": None, "position": None}
        return {"rank": position.row.rank, "rows": position.around, "uid": position.row.uid, "position": position}
    _total, rank, rows = race_around(race, None, n, player_id=player_id)
    uid = next((row.uid for row in rows if row.rank == rank), None)
    return {"rank": rank, "rows": rows, "uid": uid, "position": None}
