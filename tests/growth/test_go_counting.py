"""What a click on `/go/` costs and where its count goes (issue 36, acceptance 2): a constant number of queries,
one write or none, whatever was clicked before; counts in the cache until the beat's flush moves them into
ReferralClickDay, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments.models import Conversion, Experiment, Exposure, Slot, Variant
from experiments.services import experiment_start
from growth.models import CampaignTouch, ReferralClickDay
from growth.services import referral_click_record, referral_clicks_flush
from tests.experiments.conftest import consenting, visitor_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def _referral(settings):
    settings.REFERRAL_URL = "https://goated.example/r/VIP"


def click(client: Client, path: str = "/go/promo/", ip: str = "203.0.113.7", agent: str = BROWSER):
    response = client.get(path, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    assert response.status_code == 302
    return response


def measured(client: Client, path: str = "/go/promo/", ip: str = "203.0.113.7") -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        click(client, path, ip)
    return [q["sql"] for q in ctx.captured_queries]


def writes(queries: list[str]) -> list[str]:
    return [sql for sql in queries if sql.lstrip().upper().startswith(WRITES)]


def stored() -> dict[str, tuple[int, int]]:
    return {r.campaign: (r.clicks, r.unique_visitors) for r in ReferralClickDay.objects.all()}


def many_prior_clicks(n: int = 60) -> None:
    """Clicks by other visitors on several campaigns, half of them flushed into rows, half still in the cache."""
    for i in range(n):
        click(Client(), f"/go/c{i % 6}/", ip=f"198.51.100.{i % 250 + 1}")
        if i == n // 2:
            referral_clicks_flush()


@pytest.mark.parametrize("path", ["/go/", "/go/promo/"])
def test_a_cookieless_click_runs_no_query_after_one_or_many_prior_clicks(path):
    click(Client(), path, ip="192.0.2.1")  # one prior click
    after_one = measured(Client(), path, ip="192.0.2.2")
    many_prior_clicks()
    after_many = measured(Client(), path, ip="192.0.2.3")
    assert after_one == after_many == []  # the count is cache operations only


@pytest.mark.parametrize("path", ["/go/", "/go/promo/"])
def test_a_signed_in_click_writes_nothing_after_one_or_many_prior_clicks(path):
    user = UserFactory()
    client = Client()
    client.cookies["gv_consent"] = "granted"  # attribution is remembered (in the cookie) only with consent
    client.force_login(user)
    click(client, path)  # the first request of the minute also marks last_active (accounts.activity)
    after_one = measured(client, path)
    many_prior_clicks()
    for other in UserFactory.create_batch(5):  # other accounts' clicks
        signed_in = Client()
        signed_in.cookies["gv_consent"] = "granted"
        signed_in.force_login(other)
        click(signed_in, "/go/other/")
    for _ in range(5):
        click(client, path)
    after_many = measured(client, path)
    assert len(after_one) == len(after_many)
    assert writes(after_one) == writes(after_many) == []  # the campaign goes in the cookie, the count in the cache
    assert not CampaignTouch.objects.exists()


@pytest.fixture
def running(db):
    experiment = Experiment.objects.create(
        key="hero-text", name="Hero text", slot=Slot.HOME_HERO, starts_at=timezone.now() - timedelta(hours=1)
    )
    Variant.objects.create(experiment=experiment, key="control", position=0, weight=1, button_text="Join")
    Variant.objects.create(experiment=experiment, key="bold", position=1, weight=1, button_text="Claim")
    assert experiment_start(experiment.pk, actor=None)
    return experiment


@pytest.mark.parametrize("path", ["/go/", "/go/site-hero/"])
def test_a_consenting_exposed_visitor_click_is_one_read_and_at_most_one_write(running, path):
    client = consenting(Client(), visitor_in("bold"))
    assert client.get("/").status_code == 200  # shown the slot: exposed
    after_one = measured(client, path)  # the conversion is written
    for i in range(30):  # other consenting visitors, exposed and converted
        other = consenting(Client(), f"other{i:017d}")
        other.get("/")
        click(other, path, ip=f"198.51.100.{i + 1}")
    many_prior_clicks()
    for _ in range(5):
        click(client, path)
    after_many = measured(client, path)  # already converted: the same insert, ignored
    assert len(after_one) == len(after_many) == 2  # the visitor's live exposures, then the conversions
    assert len(writes(after_one)) == len(writes(after_many)) == 1
    assert Exposure.objects.count() == 31
    assert Conversion.objects.count() == 31  # once per visitor, however often they clicked


def test_head_crawlers_and_prefetches_run_no_query_and_are_not_counted():
    client = Client()
    with CaptureQueriesContext(connection) as ctx:
        assert client.head("/go/promo/", HTTP_USER_AGENT=BROWSER).status_code == 302
        for agent in ("TelegramBot (like TwitterBot)", "Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.5.0"):
            click(client, agent=agent)
        assert client.get("/go/promo/", HTTP_USER_AGENT=BROWSER, HTTP_SEC_PURPOSE="prefetch").status_code == 302
    assert ctx.captured_queries == []
    assert referral_clicks_flush() == 0
    assert stored() == {}


def test_the_flush_moves_each_count_once():
    for i in range(7):
        referral_click_record("promo", f"visitor {i % 3}")
    referral_click_record("", "visitor 0")
    assert stored() == {}  # nothing in the database until the flush
    assert referral_clicks_flush() == 8
    assert stored() == {"promo": (7, 3), "": (1, 1)}
    assert referral_clicks_flush() == 0  # run twice: nothing added again
    referral_click_record("promo", "visitor 9")  # arrives after a flush: the next one adds it to the row
    assert referral_clicks_flush() == 1
    assert stored() == {"promo": (8, 4), "": (1, 1)}


def test_the_flush_covers_yesterday_and_today():
    yesterday, today = datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
    referral_click_record("promo", "v", now=yesterday)
    referral_click_record("promo", "v", now=today)
    assert referral_clicks_flush(now=today) == 2
    rows = ReferralClickDay.objects.order_by("day").values_list("day", "clicks", "unique_visitors")
    assert list(rows) == [(yesterday.date(), 1, 1), (today.date(), 1, 1)]


def test_a_failed_write_gives_the_counts_back_for_the_next_flush(monkeypatch):
    referral_click_record("promo", "v1")
    referral_click_record("promo", "v2")

    def broken(*_a, **_k):
        raise RuntimeError("database is gone")

    with monkeypatch.context() as patched:
        patched.setattr("growth.services._count", broken)
        with pytest.raises(RuntimeError):
            referral_clicks_flush()
    assert stored() == {}
    assert referral_clicks_flush() == 2
    assert stored() == {"promo": (2, 2)}


def test_a_flush_that_finds_another_running_leaves_the_counts_to_it():
    from django.core.cache import cache

    from growth.services import FLUSH_LOCK

    referral_click_record("promo", "v1")
    cache.add(FLUSH_LOCK, 1, 50)
    assert referral_clicks_flush() == 0
    cache.delete(FLUSH_LOCK)
    assert referral_clicks_flush() == 1
    assert stored() == {"promo": (1, 1)}


def test_the_flush_is_on_the_beat_every_minute(settings):
    from growth.tasks import referral_clicks_flush_task

    entry = settings.CELERY_BEAT_SCHEDULE["referral-clicks-flush"]
    assert (entry["task"], entry["schedule"]) == ("growth.referral_clicks_flush", 60.0)
    assert referral_clicks_flush_task.name == entry["task"]
    referral_click_record("promo", "v1")
    assert referral_clicks_flush_task.apply().get() == 1
    assert stored() == {"promo": (1, 1)}
