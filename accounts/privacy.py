"""Privacy choices of an account: how the linked Goated player's name appears to others (DESIGN §7).

The choice lives on the feed player (races.feed.names reads it with every row, so a leaderboard costs no extra
query); the account is where a person makes it. A change reaches every surface within one sync interval: the
leaderboard cache is rebuilt at once after commit, process memory and cached pages expire within a second.
"""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, ServiceError
from core.models import AuditEntry
from races.feed.leaderboard import leaderboard_cache_refresh
from races.feed.models import NAME_CHOICES, Player

logger = logging.getLogger(__name__)
NAME_DISPLAYS = [value for value, _label in NAME_CHOICES]


def name_display_of(user: User) -> str | None:
    """The choice of the player linked to `user` ("" = the site's default), None without a linked player."""
    if user.player_id is None:
        return None
    return Player.objects.filter(pk=user.player_id).values_list("name_display", flat=True).first()


@transaction.atomic
def name_display_set(user: User, choice: str, *, source: str = AuditEntry.Source.API) -> str:
    """Set how the linked player's name appears publicly: full, masked or hidden."""
    if choice not in NAME_DISPLAYS:
        raise ServiceError(
            f"Choose one of {', '.join(NAME_DISPLAYS)}.",
            fields={"name_display": [f"One of {', '.join(NAME_DISPLAYS)}."]},
        )
    if user.player_id is None:
        raise Conflict(
            "Link your Goated account first: the choice is about the name the feed shows.", code="not_linked"
        )
    player = Player.objects.select_for_update().get(pk=user.player_id)
    before = player.name_display
    if before != choice:
        Player.objects.filter(pk=player.pk).update(name_display=choice)
        audit_record(actor=user, action="privacy.name_display", target=player, before={"name_display": before},
                     after={"name_display": choice}, source=source)  # fmt: skip
        transaction.on_commit(_leaderboards_rebuild)
    return choice


def _leaderboards_rebuild() -> None:
    try:
        leaderboard_cache_refresh()
    except Exception:  # the cache falls back to the database; the next sync rebuilds it anyway
        logger.exception("privacy: could not rebuild the leaderboard cache after a name choice")
