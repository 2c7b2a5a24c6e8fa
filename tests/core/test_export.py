"""The account export (goatedvips/export.py): every model that references the user or their player is in it, with
the rows that are theirs and no secret."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import SelfExclusion, TelegramLinkToken
from core.audit import audit_record
from experiments.models import Experiment, Exposure, Variant
from giveaways.models import Raffle, RaffleEntry, RaffleWinner
from goatedvips.export import account_export, references
from growth.models import CampaignTouch, PlayerAttribution, PlayerWagerSnapshot
from notifications.models import Notification, NotificationPreferences
from payouts.models import Payout
from races.models import Player, PlayerRank, RaceEntry, RaceParticipant, RaceResult, WagerAdjustment, WagerRace
from support.models import SupportTicket, TicketMessage
from tests.factories import BonusCodeFactory, VerificationRequestFactory, WagerRaceFactory
from vip.models import BonusCodeClaim, WheelSeed, WheelSegment
from vip.services import wheel_spin

# References whose rows are a player's own: the fixture below makes one of each for the exported user.
OWN = {
    ("accounts.SelfExclusion", "user"), ("accounts.TelegramLinkToken", "user"),
    ("accounts.VerificationRequest", "user"),
    ("authtoken.Token", "user"), ("core.AuditEntry", "actor"), ("giveaways.RaffleEntry", "user"),
    ("notifications.Notification", "user"), ("notifications.NotificationPreferences", "user"),
    ("races.RaceEntry", "user"), ("support.SupportTicket", "user"), ("support.TicketMessage", "author"),
    ("vip.BonusCodeClaim", "user"), ("vip.WheelSeed", "user"), ("vip.WheelSpin", "user"), ("vip.BonusCode", "owner"),
    ("accounts.User", "player"), ("accounts.VerificationRequest", "player"), ("giveaways.RaffleEntry", "player"),
    ("giveaways.RaffleWinner", "player"), ("payouts.Payout", "player"), ("races.PlayerRank", "player"),
    ("races.RaceEntry", "player"), ("races.RaceParticipant", "player"), ("races.RaceResult", "player"),
    ("races.WagerAdjustment", "player"), ("vip.WheelSpin", "player"), ("experiments.Exposure", "user"),
    ("growth.CampaignTouch", "user"), ("growth.PlayerAttribution", "player"), ("growth.PlayerWagerSnapshot", "player"),
}  # fmt: skip
# References that point at staff doing their work (the export carries them too, for a staff member who asks).
STAFF_SIDE = {
    ("accounts.SelfExclusion", "lifted_by"), ("accounts.VerificationRequest", "decided_by"), ("admin.LogEntry", "user"),
    ("giveaways.Raffle", "created_by"), ("notifications.Broadcast", "created_by"), ("otp_static.StaticDevice", "user"),
    ("otp_totp.TOTPDevice", "user"), ("payouts.Payout", "approved_by"), ("payouts.Payout", "paid_by"),
    ("races.FeedCredential", "created_by"), ("races.WagerAdjustment", "created_by"),
    ("races.WagerAdjustment", "reviewed_by"), ("support.SupportTicket", "assigned_to"), ("vip.BonusCode", "created_by"),
    ("growth.Campaign", "created_by"), ("overlays.OverlayLink", "created_by"),
}  # fmt: skip


def test_every_model_that_references_a_user_or_a_player_is_accounted_for():
    User = apps.get_model("accounts.User")
    found = {(m._meta.label, f) for m, f in references(User)} | {(m._meta.label, f) for m, f in references(Player)}
    unknown = found - OWN - STAFF_SIDE
    assert not unknown, f"a new model references the user or the player: add it to OWN or STAFF_SIDE: {unknown}"
    assert (OWN | STAFF_SIDE) - found == set()


@pytest.mark.django_db
def test_the_export_holds_a_row_of_every_model_that_references_the_user(api_client, verified_player, password):
    user, player = verified_player, verified_player.player
    now = timezone.now()
    WheelSegment.objects.create(position=1, label="Try again", weight=1)
    wheel_spin(user)  # a seed and a spin
    BonusCodeClaim.objects.create(code=BonusCodeFactory(), user=user)
    BonusCodeFactory(owner=user)
    NotificationPreferences.objects.get_or_create(user=user)
    Notification.objects.create(user=user, title="Hello")
    ticket = SupportTicket.objects.create(user=user, subject="Help", description="Please")
    TicketMessage.objects.create(ticket=ticket, author=user, body="More")
    TelegramLinkToken.objects.create(user=user, nonce="n-export", expires_at=now + timedelta(minutes=5))
    Token.objects.create(user=user)
    VerificationRequestFactory(user=user, player=player)
    race = WagerRaceFactory(entry=WagerRace.Entry.OPT_IN)
    RaceEntry.objects.create(race=race, player=player, user=user)
    RaceParticipant.objects.create(race=race, player=player, wagered=Decimal("5"), rank=1)
    result = RaceResult.objects.create(race=race, player=player, rank=1, name=player.name, uid=player.uid,
                                       prize=Decimal("5"))  # fmt: skip
    Payout.objects.create(result=result, race=race, player=player, amount=Decimal("5"), destination=player.name)
    WagerAdjustment.objects.create(race=race, player=player, amount=Decimal("1"), reason="Bonus bet")
    PlayerRank.objects.update_or_create(player=player, defaults={"rank_monthly": 3})
    raffle = Raffle.objects.create(title="R", starts_at=now, ends_at=now + timedelta(days=1), prize_pool=Decimal("5"))
    RaffleEntry.objects.create(raffle=raffle, player=player, user=user, baseline_all_time=0, measured=0, tickets=1)
    RaffleWinner.objects.create(raffle=raffle, position=1, player=player, uid=player.uid, name=player.name, tickets=1)
    SelfExclusion.objects.create(user=user, period="1d", starts_at=now, ends_at=now + timedelta(days=1))
    audit_record(actor=user, action="test.export", target=user, after={"x": 1})
    experiment = Experiment.objects.create(key="hero", name="Hero", slot="home.hero", starts_at=now)
    variant = Variant.objects.create(experiment=experiment, key="control")
    Exposure.objects.create(experiment=experiment, variant=variant, visitor="e" * 64, user=user)
    CampaignTouch.objects.create(user=user, campaign="stream", clicked_at=now)
    PlayerAttribution.objects.create(player=player, campaign="stream", clicked_at=now)
    PlayerWagerSnapshot.objects.create(player=player, day=now.date(), all_time=Decimal("5"))
    api_client.force_authenticate(user)
    answer = api_client.get("/api/v1/me/export/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    document = json.loads(answer.content)
    labels = set(document["records"])
    expected = {label for label, _field in OWN} - {"accounts.User"}
    assert expected <= labels, expected - labels
    assert document["account"]["username"] == user.username
    assert document["player"]["uid"] == player.uid
    assert any(entry["action"] == "test.export" for entry in document["audit_about_you"])
    text = answer.content.decode()
    assert user.password not in text
    assert Token.objects.get(user=user).key not in text
    assert WheelSeed.objects.filter(user=user).exists()
    assert "password" not in document["account"]
    assert account_export(user)["records"].keys() == document["records"].keys()


@pytest.mark.django_db
def test_the_export_is_for_the_signed_in_account_only_and_rate_limited(api_client, verified_player, settings):
    assert api_client.get("/api/v1/me/export/").status_code in (401, 403)
    api_client.force_authenticate(verified_player)
    statuses = [api_client.get("/api/v1/me/export/").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
