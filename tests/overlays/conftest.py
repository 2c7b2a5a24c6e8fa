"""Overlay fixtures: a live race with standings, players on the monthly leaderboard, an open raffle with tickets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from giveaways.models import Raffle, RaffleEntry
from races.feed.ranks import player_ranks_recompute
from races.models import RaceParticipant, WagerRace
from tests.factories import PlayerFactory, WagerRaceFactory


def make_board() -> dict:
    """Three players (Alpha leads the month), a live race they are in, an open raffle with their tickets."""
    now = timezone.now()
    names = (("alpha", "Alpha", "3000"), ("bravo", "Bravo", "2000"), ("<b>c</b>", "<b>Charlie</b>", "1000"))
    players = [
        PlayerFactory(uid=uid, name=name, wager_month=Decimal(month), wager_all_time=Decimal(month) * 10)
        for uid, name, month in names
    ]
    player_ranks_recompute()
    race = WagerRaceFactory(status=WagerRace.Status.LIVE, start_date=now - timedelta(days=1), title="Monthly Race",
                            end_date=now + timedelta(days=2), prize_distribution={"1": 60, "2": 40})  # fmt: skip
    for rank, player in enumerate(players, start=1):
        RaceParticipant.objects.create(race=race, player=player, wagered=Decimal(400 - rank * 100),
                                       measured=Decimal(400 - rank * 100), baseline_all_time=0, rank=rank,
                                       prize_eligible=True)  # fmt: skip
    raffle = Raffle.objects.create(title="Weekend raffle", starts_at=now - timedelta(days=1), status=Raffle.Status.OPEN,
                                   ends_at=now + timedelta(hours=5), prize_pool=Decimal("100"),
                                   ticket_wager=Decimal("100"))  # fmt: skip
    for tickets, player in zip((5, 9, 2), players, strict=True):
        RaffleEntry.objects.create(raffle=raffle, player=player, baseline_all_time=0, measured=tickets * 100,
                                   tickets=tickets)  # fmt: skip
    return {"players": players, "race": race, "raffle": raffle}


@pytest.fixture
def board(db) -> dict:
    return make_board()
