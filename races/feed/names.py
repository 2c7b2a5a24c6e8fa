"""The public name of a feed player: the one rule (DESIGN §7), in Python and as an ORM expression beside it.

A linked player chooses how their Goated name appears to others — `full`, `masked` or `hidden`; a player without a
choice gets `PUBLIC_NAME_DISPLAY` (full or masked). A masked name is its first 2 characters + `****` + its last 2
(names under 5 characters: the first + `****`); a hidden one is `Anonymous`. A self-excluded player (`hidden_until`
in the future) is hidden whatever they chose. Staff in admin see the real name; every public surface shows this
one. The uid stays the public key of a row (an opaque id).

tests/races/test_public_names.py checks that the Python rule and the expression agree on every kind of name.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Concat, Left, Length, Now, Right
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

FULL, MASKED, HIDDEN = "full", "masked", "hidden"
ANONYMOUS = "Anonymous"
MASK = "****"


def masked(name: str) -> str:
    return name[:2] + MASK + name[-2:] if len(name) >= 5 else name[:1] + MASK


def display_of(choice: str) -> str:
    """A player's effective choice: theirs, or the site's default."""
    return choice or settings.PUBLIC_NAME_DISPLAY


def public_name(
    name: str, choice: str = "", hidden_until: datetime | None = None, *, now: datetime | None = None
) -> str:
    """What anyone but staff sees for a feed player called `name`."""
    if hidden_until is not None and hidden_until > (now or timezone.now()):
        return ANONYMOUS
    display = display_of(choice)
    if display == HIDDEN:
        return ANONYMOUS
    return masked(name) if display == MASKED else name


def player_public_name(player, *, now: datetime | None = None) -> str:
    return public_name(player.name, player.name_display, player.hidden_until, now=now)


def public_name_expr(name: str = "name", player: str = "") -> Case:
    """public_name as an ORM expression: `name` is the name column (a player's, or a snapshot's like
    RaceResult.name), `player` the path to the player whose choice applies ("" for a Player queryset itself)."""
    prefix = f"{player}__" if player else ""
    choice = f"{prefix}name_display"
    hidden = Q(**{f"{prefix}hidden_until__gt": Now()}) | Q(**{choice: HIDDEN})
    masked_expr = Case(
        When(GreaterThanOrEqual(Length(name), 5), then=Concat(Left(name, 2), Value(MASK), Right(name, 2))),
        default=Concat(Left(name, 1), Value(MASK)),
        output_field=CharField(),
    )
    use_mask = Q(**{choice: MASKED})
    if settings.PUBLIC_NAME_DISPLAY == MASKED:
        use_mask |= Q(**{choice: ""})
    return Case(
        When(hidden, then=Value(ANONYMOUS)),
        When(use_mask, then=masked_expr),
        default=name,
        output_field=CharField(),
    )
