"""`/go/` and `/go/<slug>/` (DESIGN.md §7 Growth): where they send a visitor, and what is counted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test import Client

from growth.models import ReferralClickDay
from growth.services import referral_click_record, referral_clicks_flush

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.fixture(autouse=True)
def _referral(settings):
    settings.REFERRAL_URL = "https://goated.example/r/VIP?lang=en&utm_source=casino"


def go(client: Client, url: str, agent: str = BROWSER, ip: str = "203.0.113.7", **headers):
    return client.get(url, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip, **headers)


def query(response) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(response["Location"]).query, keep_blank_values=True))


def counts() -> dict[str, tuple[int, int]]:
    """The stored counts once the beat's flush has moved the cache's counters into the database."""
    referral_clicks_flush()
    return {r.campaign: (r.clicks, r.unique_visitors) for r in ReferralClickDay.objects.all()}


# --- where it sends --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_campaign_link_redirects_to_the_referral_url_with_its_utm(client):
    response = go(client, "/go/friday-stream/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "goated.example", "/r/VIP")
    # REFERRAL_URL's own parameter is kept; our utm_* are set over its own.
    assert query(response) == {
        "lang": "en", "utm_source": "goatedvips", "utm_medium": "referral", "utm_campaign": "friday-stream",
    }  # fmt: skip


@pytest.mark.django_db
def test_plain_go_has_no_campaign_parameter(client):
    response = go(client, "/go/")
    assert response.status_code == 302
    assert query(response) == {"lang": "en", "utm_source": "goatedvips", "utm_medium": "referral"}


@pytest.mark.django_db
def test_incoming_utm_values_win_and_other_parameters_are_dropped(client):
    response = go(client, "/go/site-hero/?utm_campaign=tiktok&utm_content=bio&ref=OTHERCODE&lang=de&next=//evil")
    assert query(response) == {
        "lang": "en", "utm_source": "goatedvips", "utm_medium": "referral", "utm_campaign": "tiktok",
        "utm_content": "bio",
    }  # fmt: skip


@pytest.mark.django_db
def test_a_referral_url_without_a_query_gets_ours(client, settings):
    settings.REFERRAL_URL = "https://goated.example/r/VIP"
    assert go(client, "/go/x/")["Location"] == (
        "https://goated.example/r/VIP?utm_source=goatedvips&utm_medium=referral&utm_campaign=x"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/go/%2F%2Fevil.com/", "/go//evil.com/", "/go/Site-Hero/", "/go/a_b/", "/go/" + "a" * 51 + "/",
     "/go/a/b/", "/go/..%2F/", "/go/%2e%2e/", "/go/https:%2F%2Fevil.com/", "/go/é/"],
)  # fmt: skip
def test_an_invalid_slug_is_a_404_and_never_a_redirect(client, path):
    response = go(client, path)
    assert response.status_code == 404
    assert counts() == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "qs", ["utm_source=https://evil.com", "url=https://evil.com", "next=//evil.com", "utm_x=%0d%0aLocation:x"]
)
def test_the_target_is_always_the_referral_url(client, qs):
    target = urlsplit(go(client, f"/go/promo/?{qs}")["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "goated.example", "/r/VIP")


@pytest.mark.django_db
def test_the_redirect_is_never_cached_and_not_indexed(client):
    response = go(client, "/go/promo/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # No cookie at all for a visitor who has not accepted analytics: no session, no CSRF, no campaign cookie.
    assert set(response.cookies) == set()
    # After consent, the one cookie is the signed campaign cookie of attribution (growth.attribution).
    client.cookies["gv_consent"] = "granted"
    response = go(client, "/go/promo/")
    assert set(response.cookies) == {"gv_campaign"}
    assert response.cookies["gv_campaign"].value.startswith("promo|")


@pytest.mark.django_db
def test_other_methods_are_refused(client):
    assert client.post("/go/promo/", HTTP_USER_AGENT=BROWSER).status_code == 405
    assert counts() == {}


# --- what is counted -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clicks_and_unique_visitors_per_campaign(client):
    go(client, "/go/promo/")
    go(client, "/go/promo/")  # the same visitor again: a click, not a new visitor
    go(client, "/go/promo/", agent=PHONE)  # another device on the same address: another visitor
    go(client, "/go/promo/", ip="198.51.100.9")
    go(client, "/go/")
    go(client, "/go/other/")
    assert counts() == {"promo": (4, 3), "": (1, 1), "other": (1, 1)}
    assert ReferralClickDay.objects.get(campaign="promo").day == datetime.now(UTC).date()


@pytest.mark.django_db
def test_any_slug_counts_whether_or_not_it_is_named(client):
    from growth.models import Campaign

    Campaign.objects.create(slug="named", name="Named")
    go(client, "/go/named/")
    go(client, "/go/never-named/")
    assert counts() == {"named": (1, 1), "never-named": (1, 1)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "agent",
    ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "TelegramBot (like TwitterBot)",
     "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Twitterbot/1.0",
     "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
     "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "WhatsApp/2.23.20.0",
     "curl/8.5.0", "python-requests/2.32.3", ""],
)  # fmt: skip
def test_crawlers_previews_and_scripts_are_redirected_but_not_counted(client, agent):
    response = go(client, "/go/promo/", agent=agent)
    assert response.status_code == 302
    assert counts() == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header", [{"HTTP_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, {"HTTP_X_MOZ": "prefetch"},
               {"HTTP_X_PURPOSE": "preview"}],
)  # fmt: skip
def test_prefetches_are_redirected_but_not_counted(client, header):
    assert go(client, "/go/promo/", **header).status_code == 302
    assert counts() == {}


@pytest.mark.django_db
def test_head_is_redirected_but_not_counted(client):
    response = client.head("/go/promo/", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"].startswith("https://goated.example/r/VIP?")
    assert counts() == {}


@pytest.mark.django_db
def test_a_failure_to_count_never_breaks_the_redirect(client, monkeypatch, caplog):
    def broken(*_a, **_k):
        raise RuntimeError("cache and database are gone")

    monkeypatch.setattr("growth.services._count_in_cache", broken)
    monkeypatch.setattr("growth.services._count", broken)
    response = go(client, "/go/promo/")
    assert response.status_code == 302
    assert "referral click not counted" in caplog.text


@pytest.mark.django_db
def test_a_cache_failure_still_counts_the_click(client, monkeypatch, caplog):
    def broken(*_a, **_k):
        raise ConnectionError("cache is gone")

    monkeypatch.setattr("growth.services.cache.add", broken)
    assert go(client, "/go/promo/").status_code == 302
    # Counted straight into the database (one UPDATE or the day's row), without waiting for a flush.
    assert [(r.campaign, r.clicks, r.unique_visitors) for r in ReferralClickDay.objects.all()] == [("promo", 1, 0)]
    assert "unique visitor check failed" in caplog.text
    assert "counted in the database" in caplog.text


@pytest.mark.django_db
def test_visitors_are_counted_again_on_a_new_day():
    day_one, day_two = datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
    for now in (day_one, day_one, day_two):
        referral_click_record("promo", "203.0.113.7\nagent", now=now)
    referral_clicks_flush(now=day_two)  # the flush covers yesterday and today
    rows = ReferralClickDay.objects.order_by("day").values_list("day", "clicks", "unique_visitors")
    assert list(rows) == [(day_one.date(), 2, 1), (day_two.date(), 1, 1)]


@pytest.mark.django_db
def test_nothing_about_a_visitor_is_stored_in_the_database(client):
    from django.apps import apps

    go(client, "/go/promo/", ip="203.0.113.77")
    fields = [f.name for model in apps.get_app_config("growth").get_models() for f in model._meta.fields]
    assert not {"ip", "address", "user_agent", "agent", "visitor", "hash"} & set(fields)
    assert counts() == {"promo": (1, 1)}  # the row exists: the check below looks at real data
    dumped = " ".join(str(row) for row in ReferralClickDay.objects.values_list())
    assert "203.0.113.77" not in dumped
    assert "Chrome" not in dumped


@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_are_all_counted():
    """Eight visitors click the same new campaign at once, three times each: the first clicks race to create the
    day's row; every click lands."""
    threads_n, clicks_each = 8, 3
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def visitor(i: int) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            for _ in range(clicks_each):
                assert go(client, "/go/launch/", ip=f"203.0.113.{i + 1}").status_code == 302
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert counts() == {"launch": (threads_n * clicks_each, threads_n)}
