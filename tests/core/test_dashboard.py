from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from races.models import RaceProgressSample, TransformationLog, WagerRace
from tests.factories import PlayerFactory, SupportTicketFactory, VerificationRequestFactory, WagerRaceFactory


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.django_db
def test_dashboard_shows_the_kpis(staff_client):
    PlayerFactory(wager_today=Decimal("1.50"), wager_week=Decimal("10"), wager_month=Decimal("100"))
    PlayerFactory(wager_today=Decimal("2.25"), wager_week=Decimal("20"), wager_month=Decimal("200"))
    WagerRaceFactory(title="Big Monthly", status=WagerRace.Status.LIVE)
    VerificationRequestFactory()
    SupportTicketFactory()
    TransformationLog.objects.create(type="error", message="sync failed", error_message="HTTP 500 from upstream")
    content = staff_client.get("/admin/").content.decode()
    for text in ("$3.75", "$30.00", "$300.00", "Big Monthly", "HTTP 500 from upstream", "1 unassigned"):
        assert text in content
    assert 'status__exact=pending">1</a>' in content


@pytest.mark.django_db
def test_dashboard_draws_the_rank_chart_of_the_live_race(staff_client):
    race = WagerRaceFactory(status=WagerRace.Status.LIVE)
    now = timezone.now()
    for i in range(3):
        RaceProgressSample.objects.create(
            race=race,
            taken_at=now + timedelta(hours=i),
            standings=[["a", "Alpha", "1", 1 + i % 2], ["b", "Beta", "1", 2 - i % 2]],
        )
    content = staff_client.get("/admin/").content.decode()
    assert content.count("<polyline") == 2
    assert "Alpha" in content


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_data(staff_client, django_assert_max_num_queries):
    PlayerFactory()
    with django_assert_max_num_queries(30) as small:
        staff_client.get("/admin/")
    PlayerFactory.create_batch(100)
    SupportTicketFactory.create_batch(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        staff_client.get("/admin/")


@pytest.mark.django_db
def test_dashboard_empty_state(staff_client):
    content = staff_client.get("/admin/").content.decode()
    assert "No race is live." in content
    assert "never" in content


@pytest.mark.django_db
def test_dashboard_draws_wager_volume_over_the_last_syncs(client, staff_user, settings):
    from races.services.sync import sync_wagers

    settings.AFFILIATE_API_URL = ""
    client.force_login(staff_user)
    assert "appears after a few feed syncs" in client.get("/admin/").content.decode()
    sync_wagers()
    sync_wagers()
    page = client.get("/admin/").content.decode()
    assert 'aria-label="Wagered this month over time"' in page
    assert "this month</div>" in page
