"""The tier rule (vip.selectors.tier_reached) and its SQL forms agree on every tier boundary, and the bonus code
list applies the visibility rule before it counts to its limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from races.models import Player
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory
from vip.models import BonusCode, VipTier
from vip.selectors import (
    TierTable,
    bonus_codes_for,
    players_reaching_q,
    tier_reached,
    tier_reached_sql,
    tiers_reached_q,
)

pytestmark = pytest.mark.django_db


def _step() -> Decimal:
    # SQLite keeps decimals as doubles (15 significant digits): the smallest step it can tell apart at 20M.
    return Decimal("0.00000001") if connection.vendor == "postgresql" else Decimal("0.000001")


def _boundary_players(tiers) -> list[Player]:
    wagers = {Decimal("0")}
    for tier in tiers:
        wagers |= {tier.min_wager - _step(), tier.min_wager, tier.min_wager + _step()}
    return [
        PlayerFactory(uid=f"boundary{i:012d}", wager_all_time=w)
        for i, w in enumerate(sorted(w for w in wagers if w >= 0))
    ]


def _raw_sql_reaching(tier) -> set[int]:
    rule = tier_reached_sql("p.wager_all_time", "CAST(%s AS NUMERIC)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.id FROM races_player p WHERE {rule}", [tier.min_wager])  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def test_the_tier_rule_agrees_with_its_sql_forms_on_every_tier_boundary():
    tiers = list(VipTier.objects.order_by("min_wager"))
    assert len(tiers) >= 9  # the ladder of DESIGN §5
    players = [Player.objects.get(pk=p.pk) for p in _boundary_players(tiers)]  # wagers as the database holds them
    table = TierTable()
    for tier in tiers:
        in_python = {p.pk for p in players if tier_reached(p, tier)}
        assert in_python == set(Player.objects.filter(players_reaching_q(tier)).values_list("pk", flat=True)), tier
        assert in_python == _raw_sql_reaching(tier), tier
    for player in players:
        reached = {t.pk for t in tiers if tier_reached(player, t)}
        assert reached == set(VipTier.objects.filter(tiers_reached_q(player, "min_wager")).values_list("pk", flat=True))
        top = table.tier_for(player.wager_all_time)
        assert (top.pk if top else None) == max(
            reached, key=lambda pk: VipTier.objects.get(pk=pk).min_wager, default=None
        )


def test_nobody_reaches_a_tier_without_a_player():
    tier = VipTier.objects.order_by("min_wager").first()
    assert tier_reached(None, tier) is False
    assert not VipTier.objects.filter(tiers_reached_q(None, "min_wager")).exists()


def test_a_big_batch_of_gated_codes_never_hides_an_older_public_code_from_players_below_the_tier():
    diamond = VipTier.objects.order_by("-min_wager").first()
    user = UserFactory(player=PlayerFactory(wager_all_time=Decimal("100")), email_verified=True)
    public = BonusCodeFactory(code="PUBLIC1")
    BonusCode.objects.filter(pk=public.pk).update(created_at=timezone.now() - timezone.timedelta(days=1))
    for i in range(150):
        BonusCodeFactory(code=f"DIAMOND{i:03d}", min_tier=diamond)

    assert [c.code for c in bonus_codes_for(user)] == ["PUBLIC1"]
    assert [c.code for c in bonus_codes_for(None)] == ["PUBLIC1"]
    whale = UserFactory(username="whale", email="whale@example.com",
                        player=PlayerFactory(wager_all_time=diamond.min_wager))  # fmt: skip
    assert len(bonus_codes_for(whale)) == 100  # the limit still applies to what a player may see
