"""Reading raffles: the entries in draw order, ticket leaders, a player's tickets, the lists."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from races.feed.names import public_name_expr
from vip.selectors import players_reaching_q


@dataclass(frozen=True)
class EntryRow:
    entry_id: int
    player_id: int
    uid: str
    name: str
    tickets: int


def _rows(entries) -> list[EntryRow]:
    return [
        EntryRow(pk, player_id, uid, name, tickets)
        for pk, player_id, uid, name, tickets in entries.annotate(
            public=public_name_expr("player__name", "player")
        ).values_list("pk", "player_id", "player__uid", "public", "tickets")
    ]


def raffle_entries(raffle: Raffle) -> list[EntryRow]:
    """The entries of DESIGN §7 in draw order (uid in code-point order, sorted here, never by a collation): once
    drawn, exactly the set that was hashed; before, every player with a ticket who may enter (the raffle's tier)."""
    if raffle.status == Raffle.Status.DRAWN:
        entries = RaffleEntry.objects.filter(raffle=raffle, in_draw=True)
    else:
        entries = RaffleEntry.objects.filter(raffle=raffle, tickets__gte=1)
        if raffle.min_tier_id is not None:
            entries = entries.filter(players_reaching_q(raffle.min_tier, "player__wager_all_time"))
    return sorted(_rows(entries), key=lambda row: row.uid)


def raffle_leaders(raffle: Raffle, limit: int = 10) -> list[EntryRow]:
    """The players with the most tickets (ties by uid), for the page and overlays."""
    rows = raffle_entries(raffle)
    return sorted(rows, key=lambda row: (-row.tickets, row.uid))[:limit]


def raffle_tickets_of(raffle: Raffle, player) -> int:
    """A player's tickets in a raffle as an entry (0 when not an entry)."""
    if player is None:
        return 0
    return next((row.tickets for row in raffle_entries(raffle) if row.player_id == player.pk), 0)


def raffle_winners(raffle: Raffle) -> list[RaffleWinner]:
    """The winners in position order, each with `public`: the name anyone may see (the row keeps the real one)."""
    winners = RaffleWinner.objects.filter(raffle=raffle).annotate(public=public_name_expr("name", "player"))
    return list(winners.order_by("position"))


def raffle_list(*, status: str | None = None) -> QuerySet[Raffle]:
    raffles = Raffle.objects.select_related("min_tier")
    if status:
        raffles = raffles.filter(status=status)
    return raffles.order_by("-ends_at", "-pk")


def raffles_open() -> list[Raffle]:
    return list(Raffle.objects.filter(status=Raffle.Status.OPEN).select_related("min_tier").order_by("ends_at", "pk"))


def raffle_get(raffle_id: int) -> Raffle | None:
    return Raffle.objects.select_related("min_tier").filter(pk=raffle_id).first()
