import re

import pytest
from django.core.management import call_command

from accounts.models import User
from races.models import Player, WagerRace
from vip.models import BonusCode, WheelSegment


@pytest.fixture
def seeded(db, capsys):
    call_command("seed_demo")
    return capsys.readouterr().out


def test_seed_demo_creates_players_races_codes_wheel_and_accounts(seeded):
    assert Player.objects.count() == 300
    ranked = list(Player.objects.filter(wager_month__gt=0).values_list("ranks__rank_monthly", flat=True))
    assert sorted(ranked) == list(range(1, len(ranked) + 1))
    assert len(ranked) > 200  # most demo players are active, a few are idle
    monthly = WagerRace.objects.get(type=WagerRace.Type.MONTHLY)
    weekly = WagerRace.objects.get(type=WagerRace.Type.WEEKLY)
    assert monthly.status == WagerRace.Status.LIVE
    assert monthly.participants.filter(rank=1).exists()  # the seed's sync computed its standings
    assert monthly.recurrence == WagerRace.Recurrence.MONTHLY
    assert weekly.status == WagerRace.Status.UPCOMING
    monthly.full_clean()  # its prize table passes validation
    assert BonusCode.objects.count() == 3
    assert WheelSegment.objects.count() == 10
    assert User.objects.get(username="operator").groups.filter(name="Operators").exists()
    assert User.objects.get(username="admin").is_superuser


def test_seed_demo_prints_random_passwords_once_and_they_work(seeded, db):
    passwords = dict(re.findall(r"Account '(\w+)' created with password (\S+)", seeded))
    assert set(passwords) == {"admin", "operator", "support", "demo"}
    assert len(set(passwords.values())) == 4
    for username, password in passwords.items():
        assert User.objects.get(username=username).check_password(password)


def test_seed_demo_is_idempotent_and_never_reprints_or_resets_passwords(seeded, capsys):
    before = dict(User.objects.values_list("username", "password"))
    call_command("seed_demo")
    again = capsys.readouterr().out
    assert "created with password" not in again
    assert "Players: 0 created, 300 already there." in again
    assert dict(User.objects.values_list("username", "password")) == before
    assert WagerRace.objects.count() == 2
    assert BonusCode.objects.count() == 3


def test_demo_passwords_differ_between_fresh_installs(seeded, capsys):
    first = dict(re.findall(r"Account '(\w+)' created with password (\S+)", seeded))
    User.objects.all().delete()
    call_command("seed_demo")
    second = dict(re.findall(r"Account '(\w+)' created with password (\S+)", capsys.readouterr().out))
    assert first["admin"] != second["admin"]
