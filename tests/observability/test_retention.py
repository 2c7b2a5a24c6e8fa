"""Retention deletes only rows past their age, in batches, and never archives or money records."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import TelegramLinkToken
from core.audit import audit_record
from core.models import AuditEntry
from goatedvips.retention import retention_run
from notifications.models import Notification
from payouts.models import Payout
from races.models import HistoricalRace, RaceProgressSample, RaceResult, TransformationLog, WagerRace
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory, WagerRaceFactory
from vip.models import BonusCodeClaim

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _ago(days: float):
    return NOW - timedelta(days=days)


@pytest.fixture
def rows():
    user = UserFactory()
    old_race = WagerRaceFactory(status=WagerRace.Status.COMPLETED, start_date=_ago(400), end_date=_ago(370),
                                prize_pool=Decimal("100"))  # fmt: skip
    live = WagerRaceFactory(status=WagerRace.Status.LIVE, start_date=_ago(400), end_date=NOW + timedelta(days=1))
    for race in (old_race, live):
        RaceProgressSample.objects.create(race=race, taken_at=_ago(380), standings=[])
    player = PlayerFactory()
    result = RaceResult.objects.create(race=old_race, player=player, rank=1, name="P", uid="p", prize=Decimal("10"))
    Payout.objects.create(result=result, race=old_race, player=player, amount=Decimal("10"), destination="P",
                          created_at=_ago(370))  # fmt: skip
    HistoricalRace.objects.create(
        race=old_race, title="Old", type="monthly", month=1, year=2025, prize_pool=100,
        start_date=old_race.start_date, end_date=old_race.end_date, total_wagered=1,
    )  # fmt: skip
    BonusCodeClaim.objects.create(code=BonusCodeFactory(), user=user, claimed_at=_ago(999))
    for days in (100, 10):
        TransformationLog.objects.create(message=f"sync {days}", created_at=_ago(days))
    Notification.objects.create(user=user, title="read long ago", read_at=_ago(100), created_at=_ago(120))
    Notification.objects.create(user=user, title="unread and old", created_at=_ago(500))
    Notification.objects.create(user=user, title="read lately", read_at=_ago(2))
    TelegramLinkToken.objects.create(user=user, nonce="old-token-1", expires_at=_ago(30))
    TelegramLinkToken.objects.create(user=user, nonce="new-token-1", expires_at=NOW + timedelta(minutes=5))
    for days in (800, 100):
        entry = audit_record(actor=None, action="race.start", target=live, before={}, after={})
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=_ago(days))


def _counts() -> dict[str, int]:
    return {
        "logs": TransformationLog.objects.count(), "samples": RaceProgressSample.objects.count(),
        "notes": Notification.objects.count(), "tokens": TelegramLinkToken.objects.count(),
        "audit": AuditEntry.objects.count(), "archives": HistoricalRace.objects.count(),
        "results": RaceResult.objects.count(), "payouts": Payout.objects.count(),
        "claims": BonusCodeClaim.objects.count(), "races": WagerRace.objects.count(),
    }  # fmt: skip


def test_only_what_is_past_its_age_goes_and_money_and_archives_stay(rows, caplog):
    before = _counts()
    assert retention_run(now=NOW, dry_run=True) == {
        "transformation logs": 1, "progress samples of finished races": 1, "read notifications": 1,
        "Telegram link tokens": 1, "audit log entries": 1,
    }  # fmt: skip
    assert _counts() == before  # a dry run changes nothing
    with caplog.at_level(logging.INFO, logger="goatedvips.retention"):
        done = retention_run(now=NOW, batch=1)
    assert sum(done.values()) == 5
    assert "retention: transformation logs: 1 deleted so far" in caplog.text
    after = _counts()
    assert {k: before[k] - after[k] for k in before} == {
        "logs": 1, "samples": 1, "notes": 1, "tokens": 1, "audit": 1,
        "archives": 0, "results": 0, "payouts": 0, "claims": 0, "races": 0,
    }  # fmt: skip
    assert list(TransformationLog.objects.values_list("message", flat=True)) == ["sync 10"]
    assert set(Notification.objects.values_list("title", flat=True)) == {"unread and old", "read lately"}
    assert RaceProgressSample.objects.get().race.status == WagerRace.Status.LIVE
    assert retention_run(now=NOW) == dict.fromkeys(done, 0)  # nothing left to do


def test_zero_days_keeps_a_kind_forever_and_the_command_reports(rows, settings):
    settings.RETENTION_AUDIT_DAYS = 0
    out = io.StringIO()
    call_command("prune_data", "--dry-run", stdout=out)
    assert "audit log entries" not in out.getvalue()
    assert "transformation logs: would delete 1" in out.getvalue()
    call_command("prune_data", stdout=out)
    assert AuditEntry.objects.count() >= 2
    assert "Retention: 4 row(s) deleted." in out.getvalue()
