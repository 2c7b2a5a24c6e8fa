"""A row in every money table (goatedvips.backup.MONEY_MODELS: a finalized race's results, archive and payouts, a
drawn raffle, an adjustment, a claimed code, a spin) and a few players, for the restore drill: run in the drill's
scratch database by `manage.py shell` (tests/deploy/test_backup.py)."""

from __future__ import annotations

from decimal import Decimal


def seed() -> None:
    from django.db import transaction

    from giveaways.models import Raffle, RaffleWinner
    from payouts.models import Payout
    from races.models import HistoricalRace, RaceResult, WagerAdjustment, WagerRace
    from tests import factories as f
    from vip.models import BonusCodeClaim

    with transaction.atomic():
        players = f.PlayerFactory.create_batch(20)
        race = f.WagerRaceFactory(title="Drill race", status=WagerRace.Status.COMPLETED)
        standings = []
        for rank, player in enumerate(players[:3], 1):
            prize = (Decimal("123.45") / rank).quantize(Decimal("0.01"))
            wagered = Decimal("1000.12345678") * rank
            RaceResult.objects.create(race=race, player=player, rank=rank, name=player.name, uid=player.uid,
                                      wagered=wagered, prize=prize)  # fmt: skip
            Payout.objects.create(source=Payout.Source.RACE, result=race.results.get(rank=rank), race=race,
                                  player=player, amount=prize, destination=player.name)  # fmt: skip
            standings.append({"rank": rank, "uid": player.uid, "name": player.name, "prize": str(prize)})
        HistoricalRace.objects.create(
            race=race, title=race.title, type=race.type, month=1, year=2026, prize_pool=race.prize_pool,
            start_date=race.start_date, end_date=race.end_date, participants=standings,
            total_wagered=Decimal("6000.74074068"), participant_count=3,
        )  # fmt: skip
        raffle = Raffle.objects.create(title="Drill raffle", starts_at=race.start_date, ends_at=race.end_date,
                                       prize_pool=Decimal("250.00"), status=Raffle.Status.DRAWN)  # fmt: skip
        RaffleWinner.objects.create(raffle=raffle, position=1, player=players[3], uid=players[3].uid,
                                    name=players[3].name, tickets=7, prize=Decimal("250.00"))  # fmt: skip
        WagerAdjustment.objects.create(race=race, player=players[0], amount=Decimal("-12.5"), reason="drill")
        user = f.UserFactory(username="drill")
        BonusCodeClaim.objects.create(code=f.BonusCodeFactory(code="DRILL1"), user=user)
        f.WheelSpinFactory(user=user, segment=f.WheelSegmentFactory(position=99, label="Drill"))
