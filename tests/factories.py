"""factory_boy factories for every model the tests build."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User, VerificationRequest
from accounts.terms import TERMS_VERSION
from races.models import Player, WagerRace
from support.models import SupportTicket, TicketMessage
from vip.models import BonusCode, WheelSegment, WheelSpin

TEST_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"player{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)
    # Accounts of the tests have confirmed 18+ and accepted the current terms (tests/accounts/test_terms.py covers
    # the accounts that have not).
    adult_confirmed_at = factory.LazyFunction(timezone.now)
    terms_accepted_at = factory.LazyFunction(timezone.now)
    terms_version = TERMS_VERSION

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


_members = itertools.count(1)


def staff_member(group: str) -> User:
    """A staff account with only the permissions of one role (a group of core.roles: Operators, Support)."""
    from django.contrib.auth.models import Group

    user = StaffFactory(username=f"{group.lower()}-{next(_members)}", is_superuser=False)
    user.groups.add(Group.objects.get(name=group))
    return user


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    uid = factory.Sequence(lambda n: f"uid{n:017d}")
    name = factory.Sequence(lambda n: f"Goat{n}")
    wager_today = Decimal("10")
    wager_week = Decimal("100")
    wager_month = Decimal("1000")
    wager_all_time = Decimal("10000")


class WagerRaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WagerRace

    title = factory.Sequence(lambda n: f"Race {n}")
    type = WagerRace.Type.MONTHLY
    status = WagerRace.Status.UPCOMING
    prize_pool = Decimal("500.00")
    start_date = factory.LazyFunction(timezone.now)
    end_date = factory.LazyAttribute(lambda r: r.start_date + timedelta(days=30))
    prize_distribution = factory.LazyFunction(lambda: {"1": 50, "2": 30, "3": 20})


class BonusCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BonusCode

    code = factory.Sequence(lambda n: f"CODE{n:04d}")
    amount = Decimal("10.00")
    claim_limit = 5
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class WheelSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WheelSegment

    position = factory.Sequence(int)
    label = factory.Sequence(lambda n: f"Segment {n}")
    weight = 10


class WheelSpinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WheelSpin

    user = factory.SubFactory(UserFactory)
    spin_date = factory.LazyFunction(lambda: timezone.now().date())
    segment = factory.SubFactory(WheelSegmentFactory)
    server_seed = "a" * 64
    server_seed_hash = "b" * 64
    client_seed = "client"
    roll = 0


class SupportTicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportTicket

    user = factory.SubFactory(UserFactory)
    subject = "My bonus did not arrive"
    description = "I claimed WELCOME10 yesterday."


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(SupportTicketFactory)
    author = factory.SelfAttribute("ticket.user")
    body = "Any news?"


class VerificationRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VerificationRequest

    user = factory.SubFactory(UserFactory)
    goated_name = "LuckyGoat88"
