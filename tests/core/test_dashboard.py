import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payouts.models import Payout
from races.models import RaceProgressSample, RaceResult, TransformationLog, WagerAdjustment, WagerRace
from tests.factories import (
    PlayerFactory,
    StaffFactory,
    SupportTicketFactory,
    VerificationRequestFactory,
    WagerRaceFactory,
    staff_member,
)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


CARD = re.compile(
    r'<a class="card[^"]*" data-queue="([^"]+)" href="([^"]+)">\s*<span class="count">([^<]*)</span><span class="what">'
    r"([^<]*)</span>\s*<span class=\"sub\">([^<]*)</span>"
)


def _cards(content: str) -> dict[str, tuple[str, str, str, str]]:
    """The work-waiting cards: queue → (link, count, label, line below)."""
    return {queue: (html.unescape(href), count, what, sub) for queue, href, count, what, sub in CARD.findall(content)}


@pytest.mark.django_db
def test_dashboard_shows_the_kpis(staff_client):
    PlayerFactory(wager_today=Decimal("1.50"), wager_week=Decimal("10"), wager_month=Decimal("100"))
    PlayerFactory(wager_today=Decimal("2.25"), wager_week=Decimal("20"), wager_month=Decimal("200"))
    WagerRaceFactory(title="Big Monthly", status=WagerRace.Status.LIVE)
    VerificationRequestFactory()
    SupportTicketFactory()
    TransformationLog.objects.create(type="error", message="sync failed", error_message="HTTP 500 from upstream")
    content = staff_client.get("/admin/").content.decode()
    for text in ("$3.75", "$30.00", "$300.00", "Big Monthly", "HTTP 500 from upstream"):
        assert text in content
    # Open tickets and pending verifications moved from the key figures to the work-waiting cards (issue 33).
    cards = _cards(content)
    assert cards["pending-verifications"][:2] == ("/admin/accounts/verificationrequest/?status__exact=pending", "1")
    assert cards["unassigned-tickets"][1] == "1"
    assert "1 open in all" in cards["unassigned-tickets"][3]


@pytest.mark.django_db
def test_dashboard_cards_count_the_work_waiting_and_link_to_the_filtered_queue(staff_client):
    race = WagerRaceFactory(prize_pool=Decimal("100"))
    for i, (status, amount) in enumerate([("pending", "10"), ("pending", "15.50"), ("approved", "7"), ("failed", "3")]):
        player = PlayerFactory()
        result = RaceResult.objects.create(race=race, player=player, rank=i + 1, name=player.name, uid=player.uid,
                                           wagered=Decimal(1), prize=Decimal(amount))  # fmt: skip
        Payout.objects.create(result=result, race=race, player=player, amount=Decimal(amount), status=status,
                              destination=player.name)  # fmt: skip
    WagerAdjustment.objects.create(race=race, player=PlayerFactory(), amount=Decimal("5000"), reason="Disputed",
                                   status=WagerAdjustment.Status.PENDING_REVIEW)  # fmt: skip
    WagerAdjustment.objects.create(race=race, player=PlayerFactory(), amount=Decimal("5"), reason="Small")
    SupportTicketFactory(assigned_to=StaffFactory())
    waiting = SupportTicketFactory(created_at=timezone.now() - timedelta(days=2, hours=1))
    SupportTicketFactory(status="closed")
    cards = _cards(staff_client.get("/admin/").content.decode())
    assert cards["payouts-to-approve"] == (
        "/admin/payouts/payout/?status=pending",
        "2",
        "Payouts to approve",
        "$25.50 in total",
    )
    assert cards["payouts-to-pay"][:2] == ("/admin/payouts/payout/?status=approved", "1")
    assert cards["payouts-to-pay"][3].startswith("$7.00")
    assert cards["adjustments-to-review"][:2] == ("/admin/races/wageradjustment/?status__exact=pending_review", "1")
    link, count, _label, sub = cards["unassigned-tickets"]
    assert (link, count) == ("/admin/support/supportticket/?assigned=none&status=waiting", "1")
    assert "oldest waiting 2\xa0days" in sub
    assert "2 open in all" in sub
    # Each link opens its queue with the filter applied (the admin accepts the query).
    for queue, (link, count, _label, _sub) in cards.items():
        if queue != "feed-token":
            page = staff_client.get(link)
            assert page.status_code == 200, queue
            assert page.context["cl"].result_count == int(count), queue
    assert waiting.pk in {t.pk for t in staff_client.get(cards["unassigned-tickets"][0]).context["cl"].result_list}


@pytest.mark.django_db
def test_dashboard_cards_show_only_the_queues_a_role_may_see(client):
    client.force_login(staff_member("Support"))
    cards = _cards(client.get("/admin/").content.decode())
    assert {"unassigned-tickets", "pending-verifications"} <= set(cards)
    assert not {"payouts-to-approve", "payouts-to-pay", "adjustments-to-review", "feed-token"} & set(cards)


@pytest.mark.django_db
def test_dashboard_feed_token_card_warns_before_the_token_expires(staff_client, settings, monkeypatch):
    from races.feed import selectors

    settings.AFFILIATE_API_URL = "https://affiliate.example/api"
    assert _cards(staff_client.get("/admin/").content.decode())["feed-token"][1] == "none"
    soon = timezone.now() + timedelta(hours=1)
    real = selectors.feed_status

    def with_token():
        status = real()
        status.token_set, status.token_expires_at = True, soon
        return status

    monkeypatch.setattr("goatedvips.dashboard.feed_status", with_token)
    content = staff_client.get("/admin/").content.decode()
    assert 'class="card alert" data-queue="feed-token"' in content
    assert _cards(content)["feed-token"][2] == "Feed token expires in"


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
    # 34: the work-waiting cards (payouts, adjustments) and the month's wager figures added four (issue 33); 44: the
    # growth tables (funnel, weekly new players, cohorts, prize ROI: issue 36) ten more. Prize ROI reads 2 more per
    # finished race or drawn raffle, at most 10 of each (tests/growth/test_roi.py counts those). 45 on PostgreSQL,
    # which runs one more here than SQLite.
    with django_assert_max_num_queries(45) as small:
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
