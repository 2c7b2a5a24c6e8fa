"""Reads on players for the public pages (leaderboard search, player profiles). A fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Window

from core.money import cents
from races.feed.leaderboard import leaderboard_queryset
from races.feed.names import player_public_name, public_name_expr
from races.models import PERIOD_FIELD, RANK_FIELD, LeaderboardPeriod, Player, RaceParticipant, RaceResult, WagerRace
from vip.selectors import TierTable


def leaderboard_search(period: str, query: str) -> QuerySet[Player]:
    """Ranked players whose name contains `query`, in global rank order (ranks stay the global ones)."""
    wager, rank = PERIOD_FIELD[LeaderboardPeriod(period)], RANK_FIELD[LeaderboardPeriod(period)]
    shown = ("uid", "name", wager, "wager_all_time", f"ranks__{rank}")  # what `leaderboard_rows` reads
    # Only the name a visitor can see matches (a masked or hidden player is not found by their real name); the
    # real name's filter comes first, where the trigram index on UPPER(name) serves it.
    return (
        leaderboard_queryset(period)
        .filter(name__icontains=query)
        .annotate(public=public_name_expr())
        .filter(public__icontains=query)
        .select_related("ranks")
        .only(*shown)
    )


def leaderboard_search_page(period: str, query: str, limit: int, offset: int) -> tuple[list[Player], int]:
    """(a page of `leaderboard_search`, how many match in all) with one search: the total rides on each row
    (`COUNT(*) OVER ()`), where a paginator would search the names twice. A page past the end counts apart."""
    found = leaderboard_search(period, query)
    page = list(found.annotate(matches=Window(Count("pk")))[offset : offset + limit])
    return page, page[0].matches if page else found.count()


def leaderboard_rows(period: str, players) -> list[dict]:
    """Players as leaderboard rows (the API's row shape), for a page of search results."""
    tiers = TierTable()
    field, rank_field = PERIOD_FIELD[LeaderboardPeriod(period)], RANK_FIELD[LeaderboardPeriod(period)]
    return [
        {
            "rank": getattr(p, rank_field),
            "uid": p.uid,
            "name": p.public,
            "wagered": str(cents(getattr(p, field))),
            "tier": tiers.name_for(p.wager_all_time),
        }
        for p in players
    ]


@dataclass
class PlayerProfile:
    player: Player
    periods: list[tuple[str, Decimal, int | None]]  # label, wagered, global rank
    tier: object | None
    next_tier: object | None
    progress_pct: int
    to_next: Decimal
    races: list[RaceResult]
    live_entries: list[RaceParticipant]
    user: object | None  # the linked site user, only if they chose to show their profile
    name: str = ""  # the public name (races.feed.names)


def player_profile(uid: str) -> PlayerProfile | None:
    player = Player.objects.filter(uid=uid).select_related("site_user", "ranks").first()
    if player is None:
        return None
    progress = TierTable().progress(player.wager_all_time)
    periods = [
        (label, player.wager_for(value), getattr(player, RANK_FIELD[LeaderboardPeriod(value)]))
        for value, label in LeaderboardPeriod.choices
    ]
    user = getattr(player, "site_user", None)
    return PlayerProfile(
        name=player_public_name(player),
        player=player,
        periods=periods,
        tier=progress.current,
        next_tier=progress.next,
        progress_pct=progress.pct,
        to_next=progress.to_next,
        # Only what the profile shows of each race (whole race rows decode their prize tables and rules).
        races=list(
            RaceResult.objects.filter(player=player)
            .select_related("race", "payout")
            .only("race_id", "rank", "wagered", "prize", "race__title", "race__end_date", "payout__status")
            .order_by("-race__end_date")[:20]
        ),
        live_entries=list(
            RaceParticipant.objects.filter(player=player, race__status=WagerRace.Status.LIVE, rank__isnull=False)
            .select_related("race")
            .only("race_id", "rank", "wagered", "race__title", "race__end_date")
            .order_by("race__end_date")
        ),
        user=user if user is not None and user.show_stats and user.is_active else None,
    )


LOOKUP_MAX = 5


def players_lookup(query: str) -> list[Player]:
    """Players a bot user means by `query`: the one with that uid, else those with exactly that name (case
    aside), best all-time first, at most LOOKUP_MAX. Each comes with its linked site user (privacy choice)."""
    players = Player.objects.select_related("site_user")
    by_uid = list(players.filter(uid=query)[:1])
    if by_uid:
        return by_uid
    # By the name others can see: a masked or hidden player is found by uid only.
    named = players.filter(name__iexact=query).annotate(public=public_name_expr()).filter(public__iexact=query)
    return list(named.order_by("-wager_all_time", "uid")[:LOOKUP_MAX])
