"""Site visits for the funnel: counted in the cache per page view, moved into VisitDay by the flush."""

from datetime import UTC, date, datetime

import pytest
from django.core.cache import cache

from growth.models import VisitDay
from growth.visits import visit_counts_flush, visit_record
from tests.factories import StaffFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.mark.django_db
def test_page_views_and_unique_visitors_reach_the_day_row_through_the_flush(client, django_assert_num_queries):
    for ip in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        assert client.get("/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ip).status_code == 200
    assert not VisitDay.objects.exists()  # nothing written by a page view
    assert visit_counts_flush() == 3
    row = VisitDay.objects.get()
    assert (row.page_views, row.unique_visitors) == (3, 2)
    assert visit_counts_flush() == 0  # safe to run twice: what was moved is not moved again
    client.get("/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.3")
    visit_counts_flush()
    row.refresh_from_db()
    assert (row.page_views, row.unique_visitors) == (4, 3)


@pytest.mark.django_db
def test_crawlers_probes_the_api_the_back_office_and_staff_are_not_visits(client):
    client.get("/", HTTP_USER_AGENT="Googlebot/2.1")
    client.get("/", HTTP_USER_AGENT="")
    client.head("/", HTTP_USER_AGENT=BROWSER)
    client.get("/api/v1/leaderboard/", HTTP_USER_AGENT=BROWSER)
    client.get("/no-such-page/", HTTP_USER_AGENT=BROWSER)
    client.force_login(StaffFactory())
    client.get("/", HTTP_USER_AGENT=BROWSER)
    client.get("/admin/", HTTP_USER_AGENT=BROWSER)
    assert visit_counts_flush() == 0
    assert not VisitDay.objects.exists()


@pytest.mark.django_db
def test_the_flush_takes_yesterday_and_today_by_utc_day():
    visit_record("a", datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    visit_record("a", datetime(2026, 3, 10, 0, 1, tzinfo=UTC))
    visit_record("b", datetime(2026, 3, 10, 0, 2, tzinfo=UTC))
    assert visit_counts_flush(datetime(2026, 3, 10, 0, 3, tzinfo=UTC)) == 3
    assert dict(VisitDay.objects.values_list("day", "unique_visitors")) == {date(2026, 3, 9): 1, date(2026, 3, 10): 2}


@pytest.mark.django_db
def test_a_cache_failure_never_breaks_a_page(client, monkeypatch):
    class Down:
        def __getattr__(self, name):
            raise ConnectionError("cache down")

    monkeypatch.setattr("growth.visits.cache", Down())
    assert client.get("/", HTTP_USER_AGENT=BROWSER).status_code == 200
    monkeypatch.setattr("growth.visits.cache", cache)
    assert visit_counts_flush() == 0
