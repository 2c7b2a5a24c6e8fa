"""The funnel and new players per week against a small fixture whose figures are worked out by hand below."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from growth.funnel import campaign_attribution_rows, funnel_rows, new_players_weekly
from growth.models import PlayerAttribution, ReferralClickDay, VisitDay
from tests.factories import PlayerFactory, StaffFactory, UserFactory, staff_member


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def march(db):
    """March 2026, days 1-30. Visits 10 + 30 (28 Feb is outside); unique clickers 5 + 3 (27 Feb outside).
    Five sign-ups in March: u1 confirmed + player wagering this month; u2 confirmed + player with nothing this
    month; u3 confirmed, no player; u4 and u5 unconfirmed (u5 holds a player: not counted past step 3). A staff
    account and a February sign-up are not counted."""
    VisitDay.objects.create(day=date(2026, 3, 1), page_views=25, unique_visitors=10)
    VisitDay.objects.create(day=date(2026, 3, 15), page_views=70, unique_visitors=30)
    VisitDay.objects.create(day=date(2026, 2, 28), page_views=500, unique_visitors=100)
    ReferralClickDay.objects.create(day=date(2026, 3, 2), campaign="stream", clicks=9, unique_visitors=5)
    ReferralClickDay.objects.create(day=date(2026, 3, 3), campaign="", clicks=4, unique_visitors=3)
    ReferralClickDay.objects.create(day=date(2026, 2, 27), campaign="stream", clicks=80, unique_visitors=50)
    joined = at("2026-03-10T12:00:00")
    UserFactory(date_joined=joined, email_verified=True, player=PlayerFactory(wager_month=Decimal("10")))
    UserFactory(date_joined=joined, email_verified=True, player=PlayerFactory(wager_month=Decimal("0")))
    UserFactory(date_joined=joined, email_verified=True)
    UserFactory(date_joined=joined)
    UserFactory(date_joined=at("2026-03-30T23:59:00"), player=PlayerFactory())
    StaffFactory(date_joined=joined, email_verified=True)
    UserFactory(date_joined=at("2026-02-28T23:59:00"), email_verified=True, player=PlayerFactory())


def test_the_funnel_counts_each_step_by_hand(march):
    assert funnel_rows(date(2026, 3, 1), date(2026, 3, 30))[1:] == [
        ("visits", 40, "", "unique visitors per day of the site's pages, summed"),
        ("referral_clicks", 8, "0.2000", "unique clickers per day on /go/, summed"),
        ("signups", 5, "0.6250", "accounts created in the period (not staff)"),
        ("confirmed_email", 3, "0.6000", "of those, address confirmed"),
        ("verified_players", 2, "0.6667", "of those, holding a feed player"),
        ("wagering_this_month", 1, "0.5000", "of those, wagered this month"),
    ]


def test_the_funnel_costs_three_queries(march, django_assert_num_queries):
    with django_assert_num_queries(3):  # visits, clicks, the sign-ups' four counts in one aggregate
        funnel_rows(date(2026, 3, 1), date(2026, 3, 30))


def test_a_step_after_a_zero_has_no_share(db):
    rows = funnel_rows(date(2026, 3, 1), date(2026, 3, 30))
    assert [r[1] for r in rows[1:]] == [0, 0, 0, 0, 0, 0]
    assert [r[2] for r in rows[1:]] == ["", "", "", "", "", ""]


def test_new_players_per_week_and_those_attributed(db):
    # Week of Mon 2 March: 3 new (Mon 00:00, Wed, Sun 23:59), one credited; week of 9 March: 1 new; the
    # player of Sun 1 March belongs to the week of 23 February.
    a = PlayerFactory(first_seen=at("2026-03-02T00:00:00"))
    PlayerFactory(first_seen=at("2026-03-04T10:00:00"))
    PlayerFactory(first_seen=at("2026-03-08T23:59:00"))
    PlayerFactory(first_seen=at("2026-03-10T08:00:00"))
    PlayerFactory(first_seen=at("2026-03-01T12:00:00"))
    PlayerAttribution.objects.create(player=a, campaign="stream", clicked_at=at("2026-03-01T20:00:00"))
    assert new_players_weekly(date(2026, 3, 3), date(2026, 3, 12)) == [
        (date(2026, 3, 2), 3, 1),
        (date(2026, 3, 9), 1, 0),
    ]
    assert new_players_weekly(date(2026, 3, 1), date(2026, 3, 1)) == [(date(2026, 2, 23), 1, 0)]


def test_campaign_attribution_rows(march):
    credited = PlayerFactory(first_seen=at("2026-03-05T00:00:00"))
    earlier = PlayerFactory(first_seen=at("2026-02-05T00:00:00"))
    PlayerAttribution.objects.create(player=credited, campaign="telegram-post", clicked_at=at("2026-03-04T00:00:00"))
    PlayerAttribution.objects.create(player=earlier, campaign="stream", clicked_at=at("2026-02-04T00:00:00"))
    assert campaign_attribution_rows(date(2026, 3, 1), date(2026, 3, 30)) == [
        ("campaign", "clicks", "unique_clickers", "new_players_attributed"),
        ("", 4, 3, 0),
        ("stream", 9, 5, 0),
        ("telegram-post", 0, 0, 1),
    ]


@time_machine.travel(datetime(2026, 3, 30, 12, tzinfo=UTC), tick=False)
def test_the_funnel_csv_for_operators_only(march, client):
    client.force_login(staff_member("Operators"))
    answer = client.get("/admin/analytics/funnel.csv?days=30")
    assert answer.status_code == 200
    lines = answer.content.decode().splitlines()
    assert lines[0] == "step,count,share_of_previous,source"
    assert [line.split(",")[1] for line in lines[1:]] == ["40", "8", "5", "3", "2", "1"]
    assert client.get("/admin/analytics/funnel.csv?days=7").status_code == 400
    client.force_login(staff_member("Support"))
    assert client.get("/admin/analytics/funnel.csv?days=30").status_code == 403
    client.logout()
    assert client.get("/admin/analytics/funnel.csv?days=30").status_code == 302
