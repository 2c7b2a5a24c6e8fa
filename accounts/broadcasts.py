"""Who a broadcast goes to: the audiences operators choose from (admin) and the bot's /broadcast uses, turned
into recipients per channel by the notification rules (notifications.services: preferences, confirmed addresses,
blocked bots). The sending itself is notifications.broadcasts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from core.errors import ServiceError
from notifications.broadcasts import Recipients, broadcast_create
from notifications.models import Broadcast, NewsletterSubscription
from notifications.services import email_audience, newsletter_audience, site_audience, telegram_audience
from races.models import RaceParticipant, WagerRace
from vip.models import VipTier

Audience = Broadcast.Audience
CHANNELS = ("site", "email", "telegram")


class BroadcastRefused(ServiceError):
    code = "broadcast_invalid"


def audience_users(audience: str, params: dict) -> QuerySet[User]:
    """The accounts an audience means (before anyone's preferences are applied)."""
    users = User.objects.filter(is_active=True)
    if audience == Audience.EVERYONE:
        return users
    if audience == Audience.VERIFIED:
        return users.filter(verification_status=User.VerificationStatus.VERIFIED)
    if audience == Audience.TIER:
        tier = VipTier.objects.filter(pk=params.get("tier_id")).first()
        if tier is None:
            raise BroadcastRefused("Choose the VIP tier the broadcast is for.", fields={"tier": ["Required."]})
        return users.filter(player__wager_all_time__gte=tier.min_wager)
    if audience == Audience.RACE:
        race = WagerRace.objects.filter(pk=params.get("race_id")).first()
        if race is None:
            raise BroadcastRefused("Choose the race whose participants get it.", fields={"race": ["Required."]})
        ranked = RaceParticipant.objects.filter(race=race, rank__isnull=False).values("player_id")
        return users.filter(player_id__in=ranked)
    if audience == Audience.NEWSLETTER:
        addresses = NewsletterSubscription.objects.filter(is_subscribed=True).values("email")
        return users.filter(email__in=addresses)
    raise BroadcastRefused(f"Unknown audience “{audience}”.", fields={"audience": ["Unknown."]})


def broadcast_recipients(audience: str, params: dict, channels, *, promotional: bool) -> Recipients:
    users = audience_users(audience, params)
    topic = "promotional_offers" if promotional else None
    recipients = Recipients()
    if "site" in channels:
        recipients.site = site_audience(users, topic=topic)
    if "email" in channels:
        # Newsletter subscribers asked for these emails (their subscription is the consent), accounts or not.
        recipients.email = (
            newsletter_audience() if audience == Audience.NEWSLETTER else email_audience(users, topic=topic)
        )
    if "telegram" in channels:
        recipients.telegram = telegram_audience(users, topic=topic)
    return recipients


def broadcast_preview(audience: str, params: dict, channels, *, promotional: bool) -> dict[str, int]:
    """How many would get it, per channel (what the admin shows before sending)."""
    recipients = broadcast_recipients(audience, params, channels, promotional=promotional)
    return {channel: len(getattr(recipients, channel)) for channel in CHANNELS if channel in channels}


def broadcast_compose(
    *, text: str, audience: str = Audience.VERIFIED, params: dict | None = None, channels=("telegram",),
    title: str = "", link: str = "", promotional: bool = True, actor=None, key: str | None = None,
    reply_chat: int | None = None,
) -> tuple[Broadcast, bool]:  # fmt: skip
    """Start a broadcast (admin composer, bot /broadcast): recipients listed now, a worker sends."""
    text, title, params = (text or "").strip(), (title or "").strip(), params or {}
    channels = [c for c in CHANNELS if c in set(channels)]
    if not text:
        raise BroadcastRefused("Write the message first.", fields={"text": ["This field may not be blank."]})
    if not channels:
        raise BroadcastRefused("Choose at least one channel.", fields={"channels": ["Choose at least one."]})
    if link and not link.startswith("/"):
        raise BroadcastRefused("The link must be a page of this site, like /races/12/.", fields={"link": ["A path."]})
    recipients = broadcast_recipients(audience, params, channels, promotional=promotional)
    return broadcast_create(
        text=text, title=title, link=link, recipients=recipients, actor=actor, key=key, reply_chat=reply_chat,
        audience=audience, audience_params=params, promotional=promotional,
        site="site" in channels, email="email" in channels, telegram="telegram" in channels,
    )  # fmt: skip
