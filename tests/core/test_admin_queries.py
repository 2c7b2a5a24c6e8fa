"""Every admin changelist renders in the same number of queries with 1 row or 200 rows (no N+1)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from waffle.models import Switch

from accounts.models import TelegramLinkToken
from core.audit import audit_record
from experiments.models import Conversion, Experiment, Exposure, Variant
from giveaways.models import Raffle, RaffleEntry
from growth.models import Campaign, CampaignTouch, PlayerAttribution, PlayerWagerSnapshot, ReferralClickDay, VisitDay
from notifications.models import (
    BotUser,
    Broadcast,
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
    WagerRace,
)
from support.models import CannedReply
from tests import factories as f
from vip.models import BonusCodeClaim, VipTier

SEQ = itertools.count()


def _experiment_rows(model):
    def build(n):
        experiment = Experiment.objects.create(key=f"exp-{next(SEQ)}", name="Hero", slot="home.hero",
                                               starts_at=timezone.now())  # fmt: skip
        variant = Variant.objects.create(experiment=experiment, key="control")
        extra = {"goal": "signup"} if model is Conversion else {"user": f.UserFactory()}
        for i in range(n):
            model.objects.create(experiment=experiment, variant=variant, visitor=f"{i:064x}", **extra)

    return build


def _experiments(n):
    for _ in range(n):
        experiment = Experiment.objects.create(key=f"exp-{next(SEQ)}", name="Hero", slot="home.hero",
                                               starts_at=timezone.now())  # fmt: skip
        winner = Variant.objects.create(experiment=experiment, key="control")
        Experiment.objects.filter(pk=experiment.pk).update(status="stopped", winner=winner)


def _players(n):
    return f.PlayerFactory.create_batch(n)


def _users(n):
    players = f.PlayerFactory.create_batch(n)
    return [f.UserFactory(player=p) for p in players]


def _race_rows(model):
    def build(n):
        race = f.WagerRaceFactory()
        for i, player in enumerate(f.PlayerFactory.create_batch(n), start=1):
            kw = {"race": race, "player": player, "wagered": Decimal(i), "rank": i}
            if model is RaceResult:
                kw.update(name=player.name, uid=player.uid)
            model.objects.create(**kw)

    return build


def _historical(n):
    for race in f.WagerRaceFactory.create_batch(n):
        HistoricalRace.objects.create(
            race=race, title=race.title, type=race.type, month=1, year=2026, prize_pool=race.prize_pool,
            start_date=race.start_date, end_date=race.end_date, total_wagered=Decimal(1), participant_count=1,
        )  # fmt: skip


def _samples(n):
    race = f.WagerRaceFactory()
    now = timezone.now()
    for i in range(n):
        RaceProgressSample.objects.create(race=race, taken_at=now + timedelta(minutes=i), standings=[])


def _claims(n):
    code = f.BonusCodeFactory(claim_limit=None)
    for user in f.UserFactory.create_batch(n):
        BonusCodeClaim.objects.create(code=code, user=user)


def _tiers(n):
    for _ in range(n):
        i = next(SEQ)
        VipTier.objects.create(name=f"Tier{i}", slug=f"tier-{i}", min_wager=Decimal(10_000_000_000 + i))


def _audit(n):
    race = f.WagerRaceFactory()
    staff = f.StaffFactory()
    for _ in range(n):
        audit_record(actor=staff, action="race.start", target=race, before={}, after={})


def _payouts(n):
    race = f.WagerRaceFactory(prize_pool=Decimal(10 * n))
    for i, player in enumerate(f.PlayerFactory.create_batch(n), start=1):
        result = RaceResult.objects.create(
            race=race, player=player, rank=i, name=player.name, uid=player.uid, wagered=Decimal(i), prize=Decimal(10)
        )
        Payout.objects.create(result=result, race=race, player=player, amount=Decimal(10), destination=player.name)


def _adjustments(n):
    race, staff = f.WagerRaceFactory(), f.StaffFactory()
    for player in f.PlayerFactory.create_batch(n):
        WagerAdjustment.objects.create(
            race=race, player=player, amount=Decimal(5), reason="Disputed bet", created_by=staff
        )


def _entries(n):
    race = f.WagerRaceFactory(entry=WagerRace.Entry.OPT_IN)
    for player in f.PlayerFactory.create_batch(n):
        RaceEntry.objects.create(race=race, player=player, user=f.UserFactory())


def _raffles(n):
    start = timezone.now()
    return [
        Raffle.objects.create(title=f"Raffle {next(SEQ)}", starts_at=start, ends_at=start + timedelta(days=1),
                              prize_pool=Decimal(10))
        for _ in range(n)
    ]  # fmt: skip


def _raffle_entries(n):
    (raffle,) = _raffles(1)
    for player in f.PlayerFactory.create_batch(n):
        RaffleEntry.objects.create(raffle=raffle, player=player, baseline_all_time=0, measured=0, tickets=1)


def _per_user(model, **kw):
    def build(n):
        for user in f.UserFactory.create_batch(n):
            model.objects.create(user=user, **kw)

    return build


BUILDERS = {
    "accounts.user": _users,
    "notifications.notificationpreferences": _per_user(NotificationPreferences),
    "notifications.notification": _per_user(Notification, title="Hi"),
    "notifications.newslettersubscription": lambda n: [
        NewsletterSubscription.objects.create(email=f"n{next(SEQ)}@example.com") for _ in range(n)
    ],
    "notifications.emaillog": lambda n: [
        EmailLog.objects.create(key=f"statement:{next(SEQ)}", to="fan@example.com", subject="Your statement")
        for _ in range(n)
    ],
    "authtoken.tokenproxy": _per_user(Token),
    "auth.group": lambda n: [Group.objects.create(name=f"Group {next(SEQ)}") for _ in range(n)],
    "core.auditentry": _audit,
    "races.player": _players,
    "races.wagerrace": lambda n: f.WagerRaceFactory.create_batch(n),
    "races.raceparticipant": _race_rows(RaceParticipant),
    "races.raceresult": _race_rows(RaceResult),
    "races.historicalrace": _historical,
    "races.raceprogresssample": _samples,
    "races.transformationlog": lambda n: [TransformationLog.objects.create(message=f"m{i}") for i in range(n)],
    "payouts.payout": _payouts,
    "races.wageradjustment": _adjustments,
    "races.raceentry": _entries,
    "giveaways.raffle": _raffles,
    "giveaways.raffleentry": _raffle_entries,
    "races.feedcredential": lambda n: [feed_token_store(f"token-{next(SEQ)}", actor=None) for _ in range(n)],
    "vip.viptier": _tiers,
    "vip.bonuscode": lambda n: f.BonusCodeFactory.create_batch(n),
    "vip.bonuscodeclaim": _claims,
    "vip.wheelsegment": lambda n: f.WheelSegmentFactory.create_batch(n),
    "vip.wheelspin": lambda n: f.WheelSpinFactory.create_batch(n),
    "support.supportticket": lambda n: f.SupportTicketFactory.create_batch(n, assigned_to=f.StaffFactory()),
    "support.ticketmessage": lambda n: f.TicketMessageFactory.create_batch(n),
    "support.cannedreply": lambda n: [
        CannedReply.objects.create(title=f"Reply {next(SEQ)}", body="Payouts run on Mondays.") for _ in range(n)
    ],
    "notifications.broadcast": lambda n: [Broadcast.objects.create(text=f"Race day {next(SEQ)}") for _ in range(n)],
    "notifications.botuser": lambda n: [BotUser.objects.create(telegram_id=10_000 + next(SEQ)) for _ in range(n)],
    "accounts.telegramlinktoken": lambda n: [
        TelegramLinkToken.objects.create(
            user=f.UserFactory(), nonce=f"n{next(SEQ)}", expires_at=timezone.now() + timedelta(minutes=5)
        )
        for _ in range(n)
    ],
    "accounts.verificationrequest": lambda n: f.VerificationRequestFactory.create_batch(n, player=f.PlayerFactory()),
    "growth.campaign": lambda n: [
        Campaign.objects.create(slug=f"stream-{next(SEQ)}", name="Stream", created_by=f.StaffFactory())
        for _ in range(n)
    ],
    "growth.referralclickday": lambda n: [
        ReferralClickDay.objects.create(day=timezone.now().date(), campaign=f"post-{next(SEQ)}", clicks=3)
        for _ in range(n)
    ],
    "experiments.experiment": _experiments,
    "experiments.exposure": _experiment_rows(Exposure),
    "experiments.conversion": _experiment_rows(Conversion),
    "growth.visitday": lambda n: [
        VisitDay.objects.create(day=timezone.now().date() - timedelta(days=next(SEQ)), page_views=9) for _ in range(n)
    ],
    "growth.campaigntouch": lambda n: [
        CampaignTouch.objects.create(user=f.UserFactory(), campaign="post", clicked_at=timezone.now()) for _ in range(n)
    ],
    "growth.playerattribution": lambda n: [
        PlayerAttribution.objects.create(player=f.PlayerFactory(), campaign="post", clicked_at=timezone.now())
        for _ in range(n)
    ],
    "growth.playerwagersnapshot": lambda n: [
        PlayerWagerSnapshot.objects.create(player=f.PlayerFactory(), day=timezone.now().date(), all_time=5)
        for _ in range(n)
    ],
    "waffle.switch": lambda n: [Switch.objects.create(name=f"extra-{next(SEQ)}") for _ in range(n)],
    "overlays.overlaylink": lambda n: [OverlayLink.objects.create(kind="leaderboard") for _ in range(n)],
}
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


def test_every_admin_model_has_a_row_builder_for_the_query_count_test():
    assert {m._meta.label_lower for m in MODELS} <= set(BUILDERS)


def _count_queries(client, url) -> int:
    cache.clear()  # every measurement starts with the caches cold (switches, tier ladder, unread count, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label_lower for m in MODELS])
def test_changelist_query_count_is_the_same_for_1_and_200_rows(client, model):
    # Marked active just now: the once-a-minute last_active write (accounts.activity) falls on neither count.
    staff = f.StaffFactory(username="query-counter", last_active=timezone.now())
    client.force_login(staff)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    build = BUILDERS[model._meta.label_lower]
    build(1)
    few = _count_queries(client, url)
    build(199)
    many = _count_queries(client, url)
    assert many == few, f"{model._meta.label}: {few} queries with few rows, {many} with 200"
