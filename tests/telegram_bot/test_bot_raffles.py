"""The bot's /raffle and /enter: open raffles with the sender's tickets, entering a giveaway by the site's rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import AuditEntry
from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_open
from tests.factories import PlayerFactory, UserFactory
from tests.telegram_bot.fake_telegram import message

pytestmark = [pytest.mark.django_db(transaction=True)]
PLAYER_TG = 1001


def open_raffle(**kwargs) -> Raffle:
    now = timezone.now()
    defaults = {"title": "Weekend <giveaway>", "starts_at": now - timedelta(hours=1),
                "ends_at": now + timedelta(days=1), "prize_pool": Decimal("50"),
                "ticket_wager": Decimal("0")}  # fmt: skip
    raffle = Raffle.objects.create(**(defaults | kwargs))
    raffle_open(raffle.pk)
    return raffle


def test_raffle_lists_what_is_open_and_the_sender_s_tickets(tg, feed_updates):
    feed_updates(message("/raffle", user_id=PLAYER_TG))
    assert "No raffle is open right now" in tg.last(PLAYER_TG)
    giveaway = open_raffle()
    open_raffle(title="Ticket raffle", ticket_wager=Decimal("100"))
    feed_updates(message("/raffle", user_id=PLAYER_TG))
    text = tg.last(PLAYER_TG)
    assert f"#{giveaway.pk} <b>Weekend &lt;giveaway&gt;</b>" in text
    assert f"/enter {giveaway.pk} for a ticket" in text
    assert "1 ticket per $100.00 wagered" in text
    assert "Link your Goated account (/verify)" in text
    player = PlayerFactory(name="BotGoat")
    UserFactory(telegram_id=PLAYER_TG, player=player, email_verified=True, verification_status="verified")
    RaffleEntry.objects.create(raffle=giveaway, player=player, baseline_all_time=0, measured=0, tickets=1)
    feed_updates(message("/raffle", user_id=PLAYER_TG))
    assert "your tickets: <b>1</b>" in tg.last(PLAYER_TG)


def test_enter_joins_a_giveaway_once_by_the_site_s_rules(tg, feed_updates):
    feed_updates(message("/enter", user_id=PLAYER_TG))
    assert "Link your site account first" in tg.last(PLAYER_TG)
    user = UserFactory(telegram_id=PLAYER_TG, email_verified=False)
    feed_updates(message("/enter", user_id=PLAYER_TG))
    assert "No giveaway is open right now" in tg.last(PLAYER_TG)
    giveaway = open_raffle()
    feed_updates(message("/enter", user_id=PLAYER_TG))
    assert "Confirm your email address first" in tg.last(PLAYER_TG)
    user.email_verified, user.verification_status, user.player = True, "verified", PlayerFactory()
    user.save()
    feed_updates(message("/enter", user_id=PLAYER_TG), message("/enter", user_id=PLAYER_TG))
    entered, again = tg.sent(PLAYER_TG)[-2:]
    assert entered == "🎟 You're in <b>Weekend &lt;giveaway&gt;</b> with one ticket. Good luck!"
    assert again == "You are already in this giveaway."
    assert RaffleEntry.objects.get(raffle=giveaway).tickets == 1
    assert AuditEntry.objects.get(action="raffle.enter").source == AuditEntry.Source.BOT
    other = open_raffle(title="Second")
    feed_updates(message("/enter", user_id=PLAYER_TG), message("/enter x", user_id=PLAYER_TG),
                 message(f"/enter {other.pk}", user_id=PLAYER_TG))  # fmt: skip
    several, bad, second = tg.sent(PLAYER_TG)[-3:]
    assert "Several giveaways are open" in several
    assert "like /enter 4" in bad
    assert "<b>Second</b>" in second
