"""The VIP ladder a process reads: from the shared cache at most once a second (core.memo, vip.selectors), and at
once again after a tier is saved in this process."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from vip import selectors
from vip.models import VipTier
from vip.selectors import TIERS_CACHE_KEY, TierTable

pytestmark = pytest.mark.django_db


def _names() -> list[str]:
    return [t.name for t in TierTable().tiers]


def test_a_process_reuses_the_ladder_it_read_within_the_second_then_reads_the_cache_again(monkeypatch):
    ladder = _names()
    assert ladder  # the data migration's ladder
    # Another process changed the ladder: the shared cache says so, this process's copy does not yet.
    cache.set(TIERS_CACHE_KEY, [{**row, "name": f"{row['name']}*"} for row in cache.get(TIERS_CACHE_KEY)])
    assert _names() == ladder
    monkeypatch.setattr(selectors._tiers_local, "seconds", 0.0)  # the second is over
    assert _names() == [f"{name}*" for name in ladder]


def test_a_tier_saved_in_this_process_shows_at_once():
    before = _names()
    VipTier.objects.create(name="Goat", slug="goat", min_wager=Decimal("999999999"), color="#123456")
    assert _names() == [*before, "Goat"]
    assert TierTable().tier_for(Decimal("1000000000")).color == "#123456"
