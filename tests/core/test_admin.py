"""Every registered model's changelist and add page: 200 for staff, a login redirect for everyone else."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import TelegramLinkToken
from core.audit import audit_record
from experiments.models import Conversion, Experiment, Exposure, Variant
from giveaways.models import Raffle, RaffleEntry
from giveaways.services import raffle_draw, raffle_open
from growth.models import Campaign, CampaignTouch, PlayerAttribution, PlayerWagerSnapshot, ReferralClickDay, VisitDay
from notifications.models import (
    BotUser,
    Broadcast,
    BroadcastDelivery,
    EmailLog,
    NewsletterSubscription,
    Notification,
    NotificationPreferences,
)
from overlays.models import OverlayLink
from payouts.models import Payout
from races.feed.credentials import feed_token_store
from races.models import (
    HistoricalRace,
    RaceEntry,
    RaceParticipant,
    RaceProgressSample,
    RaceResult,
    TransformationLog,
    WagerAdjustment,
)
from support.models import CannedReply
from tests.factories import (
    BonusCodeFactory,
    PlayerFactory,
    SupportTicketFactory,
    TicketMessageFactory,
    VerificationRequestFactory,
    WagerRaceFactory,
    WheelSpinFactory,
)
from vip.models import BonusCodeClaim

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
IDS = [m._meta.label for m in MODELS]


def _url(model, page: str) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}")


@pytest.fixture
def some_rows(db):
    """A few rows everywhere so changelists render real data, not just the empty state."""
    players = PlayerFactory.create_batch(3)
    race = WagerRaceFactory()
    RaceParticipant.objects.create(race=race, player=players[0], wagered=Decimal("5"), rank=1)
    RaceResult.objects.create(race=race, player=players[0], rank=1, name="Goat", uid="u1", wagered=Decimal("5"))
    HistoricalRace.objects.create(
        race=race, title=race.title, type=race.type, month=1, year=2026, prize_pool=race.prize_pool,
        start_date=race.start_date, end_date=race.end_date, total_wagered=Decimal("5"), participant_count=1,
    )  # fmt: skip
    TransformationLog.objects.create(message="sync ok", payload={"received": 3})
    RaceProgressSample.objects.create(race=race, taken_at=race.start_date, standings=[["u1", "Goat", "5.00", 1]])
    spin = WheelSpinFactory()
    BonusCodeClaim.objects.create(code=BonusCodeFactory(), user=spin.user)
    NotificationPreferences.objects.create(user=spin.user)
    Notification.objects.create(user=spin.user, title="You won")
    NewsletterSubscription.objects.create(email="fan@example.com")
    EmailLog.objects.create(key="statement:1:2026-01", to="fan@example.com", subject="Statement", status="uncertain")
    Token.objects.create(user=spin.user)
    TicketMessageFactory(ticket=SupportTicketFactory())
    VerificationRequestFactory()
    BotUser.objects.create(telegram_id=424242, username="goatfan")
    broadcast = Broadcast.objects.create(text="Race day!")
    BroadcastDelivery.objects.create(broadcast=broadcast, channel="telegram", recipient="424242", status="sent")
    TelegramLinkToken.objects.create(user=spin.user, nonce="abcdefghijkl", expires_at=race.end_date)
    audit_record(actor=None, action="race.start", target=race, before={"status": "upcoming"}, after={"status": "live"})
    prize = RaceResult.objects.create(race=race, player=players[1], rank=2, name="Kid", uid="u2", prize=Decimal("5"))
    Payout.objects.create(result=prize, race=race, player=players[1], amount=Decimal("5"), destination="Kid")
    WagerAdjustment.objects.create(race=race, player=players[0], amount=Decimal("-5"), reason="Fraud reversal")
    RaceEntry.objects.create(race=race, player=players[2])
    feed_token_store("eyJhbGciOiJIUzI1NiJ9.e30.sig", actor=None)
    raffle = Raffle.objects.create(title="Goat raffle", starts_at=race.start_date, ends_at=race.end_date,
                                   prize_pool=Decimal("10"), ticket_wager=Decimal("0"))  # fmt: skip
    raffle_open(raffle.pk, now=race.start_date)
    RaffleEntry.objects.create(raffle=raffle, player=players[0], baseline_all_time=0, measured=0, tickets=1)
    raffle_draw(raffle.pk, now=race.end_date + timedelta(seconds=1))  # a winner, and its payout in the queue
    OverlayLink.objects.create(kind="race", label="Main scene")
    Campaign.objects.create(slug="goat-stream", name="Goat stream", note="Friday stream")
    ReferralClickDay.objects.create(day=race.start_date.date(), campaign="goat-stream", clicks=5, unique_visitors=3)
    ReferralClickDay.objects.create(day=race.start_date.date(), campaign="", clicks=2, unique_visitors=2)
    experiment = Experiment.objects.create(
        key="goat-hero", name="Goat hero", slot="home.hero", starts_at=race.start_date
    )
    control = Variant.objects.create(experiment=experiment, key="control", position=0)
    Variant.objects.create(experiment=experiment, key="goat", position=1, headline="Goat!")
    Exposure.objects.create(experiment=experiment, variant=control, visitor="a" * 64, user=spin.user)
    Conversion.objects.create(experiment=experiment, variant=control, visitor="a" * 64, goal="signup")
    VisitDay.objects.create(day=race.start_date.date(), page_views=40, unique_visitors=12)
    CampaignTouch.objects.create(user=spin.user, campaign="goat-stream", clicked_at=race.start_date)
    PlayerAttribution.objects.create(player=players[0], campaign="goat-stream", clicked_at=race.start_date)
    PlayerWagerSnapshot.objects.create(player=players[0], day=race.start_date.date(), all_time=Decimal("12.5"))
    CannedReply.objects.create(title="Payout timing", body="Payouts run every Monday.")


def test_every_app_model_is_registered_in_admin():
    labels = {m._meta.label for m in MODELS}
    expected = {
        "accounts.User", "notifications.NotificationPreferences", "notifications.Notification",
        "notifications.NewsletterSubscription",
        "races.Player", "races.WagerRace", "races.RaceParticipant", "races.RaceResult", "races.HistoricalRace",
        "races.TransformationLog",
        "races.RaceProgressSample", "vip.VipTier", "vip.BonusCode", "vip.BonusCodeClaim", "vip.WheelSegment",
        "vip.WheelSpin", "support.SupportTicket", "support.TicketMessage", "accounts.VerificationRequest",
        "notifications.BotUser", "accounts.TelegramLinkToken", "notifications.Broadcast", "notifications.EmailLog",
        "payouts.Payout", "races.WagerAdjustment", "races.RaceEntry", "races.FeedCredential",
        "giveaways.Raffle", "giveaways.RaffleEntry", "growth.Campaign", "growth.ReferralClickDay",
        "experiments.Experiment", "experiments.Exposure", "experiments.Conversion",
        "growth.VisitDay", "growth.CampaignTouch", "growth.PlayerAttribution", "growth.PlayerWagerSnapshot",
        "support.CannedReply",
    }  # fmt: skip
    assert expected <= labels


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_staff_sees_changelist_and_add_page(client, staff_user, some_rows, model):
    client.force_login(staff_user)
    changelist = client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert client.get(_url(model, "changelist"), {"q": "goat"}).status_code == 200
    add = client.get(_url(model, "add"))
    assert add.status_code in (200, 403)
    if admin.site._registry[model].has_add_permission(add.wsgi_request):
        assert add.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_staff_sees_each_change_page(client, staff_user, some_rows, model):
    client.force_login(staff_user)
    obj = model._default_manager.first()
    assert obj is not None, f"the fixture should create a {model._meta.label}"
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_anonymous_users_are_sent_to_the_login_page(client, model):
    for page in ("changelist", "add"):
        response = client.get(_url(model, page))
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_players_without_staff_rights_cannot_enter_admin(client, player_user):
    client.force_login(player_user)
    response = client.get(reverse("admin:races_player_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_operators_and_support_groups_exist_with_least_privilege():
    from django.contrib.auth.models import Group

    operators = set(Group.objects.get(name="Operators").permissions.values_list("codename", flat=True))
    support = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    assert {"add_wagerrace", "change_wagerrace", "change_bonuscode", "change_viptier"} <= operators
    assert {"view_supportticket", "change_supportticket", "add_ticketmessage", "change_verificationrequest"} <= support
    assert not {c for c in support if c.endswith(("wagerrace", "bonuscode", "viptier")) and not c.startswith("view")}
    assert "delete_user" not in operators | support


@pytest.mark.django_db
def test_admin_pages_of_models_that_moved_apps_redirect_to_their_new_place(client, staff_user):
    response = client.get("/admin/telegram_bot/verificationrequest/?status__exact=pending")
    assert (response.status_code, response["Location"]) == (
        302,
        "/admin/accounts/verificationrequest/?status__exact=pending",
    )
    assert client.get("/admin/goatedvips/auditentry/5/change/")["Location"] == "/admin/core/auditentry/5/change/"
    client.force_login(staff_user)
    assert client.get("/admin/accounts/notification/", follow=True).redirect_chain[-1][0] == (
        "/admin/notifications/notification/"
    )
    assert client.get("/admin/accounts/notification/", follow=True).status_code == 200
