"""Attribution of new referred players to campaigns (docs/analytics.md, "Attribution": an estimate).

A click on `/go/<campaign>/` is remembered for the account that clicked: directly when the visitor is signed in,
otherwise in a signed first-party cookie that only `/go/` sets (the slug and the time of the click, nothing
else), read at the account's next sign-in. When the account later holds a feed player (an approved
verification), the player is credited to that campaign if the click came before the player's first appearance in
the feed: a player who was already in the feed was not brought by a later click. Last click wins; the
credit is written once and never moved.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from growth.models import SLUG_PATTERN, CampaignTouch, PlayerAttribution

logger = logging.getLogger(__name__)

COOKIE = "gv_campaign"
COOKIE_SALT = "growth.campaign"
COOKIE_MAX_AGE = timedelta(days=30)
_VALUE = re.compile(rf"\A({SLUG_PATTERN})?\|([0-9]{{1,12}})\Z")


def campaign_cookie_set(response: HttpResponse, campaign: str, clicked_at: datetime) -> None:
    """The signed cookie `/go/` leaves on an anonymous visitor: `<slug>|<unix time>`, HttpOnly, SameSite=Lax."""
    response.set_signed_cookie(
        COOKIE, f"{campaign}|{int(clicked_at.timestamp())}", salt=COOKIE_SALT,
        max_age=int(COOKIE_MAX_AGE.total_seconds()), secure=settings.SESSION_COOKIE_SECURE, httponly=True,
        samesite="Lax",
    )  # fmt: skip


def campaign_cookie_read(request: HttpRequest) -> tuple[str, datetime] | None:
    """(campaign, clicked_at) from a valid, unexpired cookie; None for no cookie, a forged or old one."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT,
                                    max_age=COOKIE_MAX_AGE.total_seconds())  # fmt: skip
    match = _VALUE.match(raw or "")
    if match is None:
        return None
    return match.group(1) or "", datetime.fromtimestamp(int(match.group(2)), tz=UTC)


def campaign_touch_record(user, campaign: str, clicked_at: datetime) -> CampaignTouch | None:
    """Remember the account's click (a later click replaces an earlier one, never the reverse), and credit the
    account's player at once if it already holds one. Never raises: attribution must not break a sign-in."""
    try:
        with transaction.atomic():
            touch = CampaignTouch.objects.select_for_update().filter(user=user).first()
            if touch is None:
                touch = CampaignTouch.objects.create(user=user, campaign=campaign, clicked_at=clicked_at)
            elif clicked_at > touch.clicked_at:
                touch.campaign, touch.clicked_at = campaign, clicked_at
                touch.save(update_fields=["campaign", "clicked_at"])
            if user.player_id:
                _attribute(touch, user.player)
        return touch
    except Exception:
        logger.exception("campaign touch not recorded (user %s)", getattr(user, "pk", None))
        return None


def player_attribute(user, player) -> PlayerAttribution | None:
    """Credit `player` (just linked to `user`) to the campaign the account clicked, if it clicked one before the
    player first appeared in the feed. Runs inside the approval's transaction in a savepoint of its own: a
    failure here is logged and never undoes the approval."""
    try:
        with transaction.atomic():
            touch = CampaignTouch.objects.filter(user=user).first()
            return _attribute(touch, player) if touch else None
    except Exception:
        logger.exception("player %s not attributed", getattr(player, "pk", None))
        return None


def _attribute(touch: CampaignTouch, player) -> PlayerAttribution | None:
    if touch.clicked_at > player.first_seen:
        return None
    try:
        with transaction.atomic():
            attribution, _ = PlayerAttribution.objects.get_or_create(
                player=player, defaults={"campaign": touch.campaign, "clicked_at": touch.clicked_at}
            )
    except IntegrityError:  # a concurrent credit of the same player won: it stands
        return PlayerAttribution.objects.filter(player=player).first()
    return attribution


def user_signed_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: the click remembered by the cookie becomes the account's."""
    found = campaign_cookie_read(request) if request is not None else None
    if found is not None:
        campaign_touch_record(user, *found)


def player_linked_received(sender, user, player, **kwargs) -> None:
    player_attribute(user, player)


def account_erased_received(sender, user, **kwargs) -> None:
    """accounts.signals.account_erased: the campaign the person clicked is personal; a player's attribution (a count
    per campaign, the player hidden for good) stays."""
    from growth.models import CampaignTouch

    CampaignTouch.objects.filter(user=user).delete()
