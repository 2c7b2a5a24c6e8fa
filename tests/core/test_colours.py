"""Tier colours are operators' data: shown as text on the dark site they are lightened until they read at AA."""

from __future__ import annotations

import pytest

from core.colours import AA_TEXT, SITE_BACKGROUNDS, contrast, readable_on
from vip.models import VipTier
from vip.selectors import TierTable


@pytest.mark.django_db
def test_every_seeded_tier_reads_at_aa_on_every_dark_surface():
    tiers = list(VipTier.objects.all())
    assert len(tiers) >= 9
    for tier in tiers:
        for background in SITE_BACKGROUNDS:
            assert contrast(tier.badge_color, background) >= AA_TEXT, (tier.name, tier.badge_color, background)
    sapphire = VipTier.objects.get(slug="sapphire")
    assert contrast(sapphire.color, SITE_BACKGROUNDS[0]) < 3  # #0F52BA as stored: 2.64:1
    assert TierTable().colors()["Sapphire"] == sapphire.badge_color  # the live leaderboard gets the same colour


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ("#D7FF00", "#D7FF00"),  # already readable: unchanged
        ("#C0C0C0", "#C0C0C0"),
        ("#0F52BA", "#5786CF"),  # lightened, same hue
        ("#000000", "#8C8C8C"),
        ("#abc", "#AABBCC"),  # short form, readable: written out
        ("blue", "blue"),  # not a hex colour: left as it is
    ],
)
def test_readable_on_lightens_only_what_needs_it(colour, expected):
    got = readable_on(colour)
    assert got.upper() == expected.upper()
    if got.startswith("#"):
        assert all(contrast(got, b) >= AA_TEXT for b in SITE_BACKGROUNDS)
