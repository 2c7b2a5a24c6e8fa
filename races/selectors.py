"""Reads on players and races."""

from __future__ import annotations

from races.models import WagerRace


def race_current(race_type: str = WagerRace.Type.MONTHLY) -> WagerRace | None:
    """The live race of a type; if none is live, the next upcoming one."""
    live = WagerRace.objects.filter(type=race_type, status=WagerRace.Status.LIVE).order_by("-start_date").first()
    if live:
        return live
    return WagerRace.objects.filter(type=race_type, status=WagerRace.Status.UPCOMING).order_by("start_date").first()
