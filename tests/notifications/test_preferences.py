"""Each of the six preferences stops exactly what it governs, on every channel, through the real producers of
each kind of message (a sync's overtake, a tier reached, a new bonus code, a promotional broadcast, the monthly
statement, a ticket reply). Email goes to a local SMTP server, Telegram to the fake Bot API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifications.models import Notification, NotificationPreferences
from notifications.services import notification_preferences_get
from tests.factories import (
    BonusCodeFactory,
    PlayerFactory,
    StaffFactory,
    SupportTicketFactory,
    UserFactory,
    WagerRaceFactory,
)
from vip.models import VipTier

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("vip_ladder")]

ALL = ("site", "email", "telegram")
# What each kind of message normally reaches.
KINDS = {
    "race": ALL,  # overtaken in a live race
    "vip": ALL,  # a VIP tier reached
    "bonus": ALL,  # a new bonus code for the player's tier
    "promotion": ALL,  # an operator's promotional broadcast
    "statement": ("email",),  # the monthly statement
    "ticket": ALL,  # a staff reply to the player's ticket (no topic: it answers the player)
}
# What switching each preference off stops: (kind, channel) pairs.
GOVERNS = {
    None: set(),
    "wager_race_updates": {("race", c) for c in ALL},
    "vip_status_changes": {("vip", c) for c in ALL},
    "promotional_offers": {(k, c) for k in ("bonus", "promotion") for c in ALL},
    "monthly_statements": {("statement", "email")},
    "email_notifications": {(k, "email") for k in KINDS},
    "push_notifications": {(k, "telegram") for k in KINDS},
}


@pytest.fixture
def fan(db):
    player = PlayerFactory(name="FanGoat", wager_all_time=Decimal("50000"))
    return UserFactory(username="fan", email="fan@example.com", email_verified=True, telegram_id=7001, player=player)


def _producers(fan):
    from notifications.broadcasts import broadcast_compose
    from races.services.standings import race_new_leader_notify
    from races.services.statements import monthly_statements_send, previous_month
    from support.services import ticket_message_post
    from vip.services import bonus_code_announce, tier_climbs_notify

    rival = PlayerFactory(name="RivalGoat")
    race = WagerRaceFactory(title="November Race")
    bronze = VipTier.objects.get(slug="bronze")
    ticket = SupportTicketFactory(user=fan, subject="Where is my bonus?")
    agent = StaffFactory(username="agent", email="agent@example.com")
    return {
        "race": lambda: race_new_leader_notify(race, rival.pk, previous_id=fan.player_id),
        "vip": lambda: tier_climbs_notify([(fan, Decimal("0"), fan.player.wager_all_time)]),
        "bonus": lambda: bonus_code_announce(BonusCodeFactory(code="GOAT50", min_tier=bronze).pk),
        "promotion": lambda: broadcast_compose(
            text="Double points weekend!", title="Promo", audience="everyone", channels=ALL, promotional=True
        ),
        "statement": lambda: monthly_statements_send(*previous_month()),
        "ticket": lambda: ticket_message_post(ticket, agent, "It is on its way."),
    }


def _deliveries(fan, tg, smtp) -> dict[tuple[str, str], int]:
    """Run every producer once: how many messages of each kind reached each channel."""
    got = {}
    for kind, produce in _producers(fan).items():
        before = (Notification.objects.filter(user=fan).count(), len(smtp.to(fan.email)), len(tg.sent(7001)))
        produce()
        after = (Notification.objects.filter(user=fan).count(), len(smtp.to(fan.email)), len(tg.sent(7001)))
        for channel, b, a in zip(ALL, before, after, strict=True):
            got[kind, channel] = a - b
    return got


def test_marketing_is_opt_in_and_everything_about_the_players_own_play_starts_on(fan, tg, smtp):
    """A player who never opened their preferences gets no bonus announcements or promotions, and gets race,
    tier, statement and ticket messages on every channel."""
    assert not NotificationPreferences.objects.filter(user=fan).exists()
    got = _deliveries(fan, tg, smtp)
    marketing = GOVERNS["promotional_offers"]
    assert {key for key, n in got.items() if n} == {(k, c) for k in KINDS for c in KINDS[k]} - marketing
    prefs = notification_preferences_get(fan)
    assert not prefs.promotional_offers
    assert prefs.wager_race_updates
    assert prefs.monthly_statements


@pytest.mark.parametrize("switched_off", list(GOVERNS), ids=lambda p: p or "all-on")
def test_each_preference_off_stops_that_kind_on_every_channel_it_governs(switched_off, fan, tg, smtp):
    # The fan opted in to marketing (it starts off, see below), then switches one preference off.
    choices = {"promotional_offers": True} | ({switched_off: False} if switched_off else {})
    NotificationPreferences.objects.create(user=fan, **choices)
    got = _deliveries(fan, tg, smtp)
    expected = {
        (kind, channel): int(channel in KINDS[kind] and (kind, channel) not in GOVERNS[switched_off])
        for kind in KINDS
        for channel in ALL
    }
    assert got == expected
    # Whatever reached the player's inbox carries a one-click unsubscribe.
    for message in smtp.to(fan.email):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].strip().startswith("<http")


def test_the_migration_switches_off_marketing_only_where_it_was_never_a_choice(db):
    """Rows made with the old default and never saved again lose promotions; rows a player saved keep them."""
    import importlib
    from datetime import timedelta

    from django.apps import apps
    from django.utils import timezone

    migration = importlib.import_module("notifications.migrations.0006_promotional_offers_untouched_off")
    untouched, chose_on, chose_other = UserFactory(), UserFactory(), UserFactory()
    for user in (untouched, chose_on, chose_other):
        NotificationPreferences.objects.create(user=user, promotional_offers=True)
    later = timezone.now() + timedelta(days=3)  # saved from the settings page days after signing up
    NotificationPreferences.objects.filter(user=chose_on).update(updated_at=later)
    NotificationPreferences.objects.filter(user=chose_other).update(monthly_statements=False)
    migration.untouched_marketing_off(apps, None)
    kept = dict(NotificationPreferences.objects.values_list("user__username", "promotional_offers"))
    assert kept == {untouched.username: False, chose_on.username: True, chose_other.username: True}
