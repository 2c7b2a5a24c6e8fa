"""Monthly statements: the figures a player is emailed for a month are those of that month's archive."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.money import money_text
from notifications.models import NotificationPreferences
from races.models import HistoricalRace, Player, RaceResult, WagerRace
from races.services.lifecycle import race_tick
from races.services.statements import monthly_statements_send, previous_month
from tests.factories import UserFactory
from tests.races.test_race_engine import apply_sync, monthly_race

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vip_ladder")]
OCT_1, NOV_1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def october(django_capture_on_commit_callbacks):
    """October 2026 played out: a monthly race and a weekly race, synced and finalized by the real services."""
    month = monthly_race(title="October 2026 Monthly Race", start_date=OCT_1, end_date=NOV_1)
    week = monthly_race(
        title="October Week 2", type=WagerRace.Type.WEEKLY, start_date=datetime(2026, 10, 5, tzinfo=UTC),
        end_date=datetime(2026, 10, 12, tzinfo=UTC), prize_pool=Decimal("100.00"),
    )  # fmt: skip
    apply_sync(datetime(2026, 10, 11, 12, tzinfo=UTC), {
        "ace": ("30000", "9000", "180000"), "bee": ("12000.50", "11000", "45000"), "cat": ("800", "300", "900"),
    })  # fmt: skip
    apply_sync(datetime(2026, 10, 31, 23, 59, tzinfo=UTC), {
        "ace": ("52000.25", "9000", "202000.25"), "bee": ("61000", "11000", "94000"), "cat": ("900", "300", "1000"),
    })  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        finalized = race_tick(now=datetime(2026, 11, 1, 0, 1, tzinfo=UTC)).finalized
    assert set(finalized) == {month.pk, week.pk}
    users = {}
    for uid in ("ace", "bee", "cat"):
        users[uid] = UserFactory(
            username=f"user_{uid}", email=f"{uid}@example.com", email_verified=True, player=Player.objects.get(uid=uid)
        )
    return month, week, users


def _statement(smtp, address: str) -> str:
    (message,) = smtp.to(address)
    assert message["Subject"] == "Your October 2026 statement"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return message.get_body(("plain",)).get_content()


def test_a_statement_shows_the_figures_of_that_months_archive(october, smtp):
    month, _week, users = october
    NotificationPreferences.objects.create(user=users["cat"], monthly_statements=False)
    assert monthly_statements_send(2026, 10) == 2
    archive = HistoricalRace.objects.get(type=WagerRace.Type.MONTHLY, year=2026, month=10)
    assert archive.race_id == month.pk
    for entry in archive.participants:
        if entry["uid"] == "cat":
            assert smtp.to("cat@example.com") == []  # opted out
            continue
        text = _statement(smtp, f"{entry['uid']}@example.com")
        results = RaceResult.objects.filter(uid=entry["uid"], race__end_date__gt=OCT_1, race__end_date__lte=NOV_1)
        assert f"Wagered in October 2026: {money_text(Decimal(entry['wagered']))}" in text
        assert f"Rank in the monthly race: #{entry['rank']}" in text
        assert f"Races finished: {results.count()}" in text
        assert f"Prizes won: {money_text(sum(r.prize for r in results))}" in text
        for result in results:
            assert re.search(rf"- {re.escape(result.race.title)}: #{result.rank}, ", text)
    bee = _statement(smtp, "bee@example.com")
    # bee: 1st in the monthly race (61,000 > 52,000.25) and 1st of the week (11,000 > 9,000).
    assert "Wagered in October 2026: $61,000.00" in bee
    assert "Rank in the monthly race: #1" in bee
    assert "VIP tier: Silver" in bee  # 94,000 all-time

    # Sent once per player and month, however often it runs.
    assert monthly_statements_send(2026, 10) == 0
    assert len(smtp.to("bee@example.com")) == 1


def test_the_statements_command_takes_a_month_and_refuses_a_bad_one(october, smtp):
    out = io.StringIO()
    call_command("monthly_statements", "--month", "2026-10", stdout=out)
    assert "Statements for 2026-10: 3 sent." in out.getvalue()
    for bad in ("2026-13", "October", "2026-1x"):
        with pytest.raises(CommandError, match="--month must look like"):
            call_command("monthly_statements", "--month", bad, stdout=io.StringIO())


def test_previous_month_wraps_the_year():
    assert previous_month(datetime(2027, 1, 1, 6, tzinfo=UTC)) == (2026, 12)
    assert previous_month(datetime(2026, 11, 30, tzinfo=UTC)) == (2026, 10)
