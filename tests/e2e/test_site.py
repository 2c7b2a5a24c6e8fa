"""The public site in Chromium: sign-up to profile, countdowns, archive, phone layout."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from races.models import WagerRace
from races.services.lifecycle import race_finalize

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "tangerine-Zebra-4419"


@pytest.fixture
def demo_data():
    call_command("seed_demo", stdout=io.StringIO())


def test_register_verify_email_sign_in_and_see_the_account(live_server, page, screenshot):
    page.goto(f"{live_server.url}/accounts/register/")
    page.fill("#id_username", "browsergoat")
    page.fill("#id_email", "browsergoat@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/settings/")
    assert "email not confirmed" in page.content()
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Email confirmed"
    page.click("text=Sign out")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "browsergoat")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{live_server.url}/accounts/settings/")
    assert "email confirmed" in page.content()
    assert "browsergoat@example.com" in page.content()
    screenshot("account-settings")


def test_race_countdown_ticks_in_the_browser(live_server, page, demo_data, screenshot):
    race = WagerRace.objects.get(type=WagerRace.Type.MONTHLY)
    page.goto(f"{live_server.url}/races/{race.pk}/")
    countdown = page.locator(".hero [data-countdown]")
    first = countdown.inner_text()
    assert re.fullmatch(r"(\d+d )?\d+h \d+m \d+s", first), first
    page.wait_for_timeout(1200)
    assert countdown.inner_text() != first
    assert page.locator(".podium .step").count() == 3
    screenshot("race-live")


def test_archive_lists_a_finalized_race_and_its_page_shows_the_results(live_server, page, demo_data, screenshot):
    race = WagerRace.objects.get(type=WagerRace.Type.MONTHLY)
    WagerRace.objects.filter(pk=race.pk).update(end_date=timezone.now() - timedelta(seconds=1))
    assert race_finalize(race.pk) is not None
    page.goto(f"{live_server.url}/races/")
    page.locator(".board").get_by_role("link", name=race.title).click()
    page.wait_for_url(f"{live_server.url}/races/{race.pk}/")
    assert "Final standings" in page.content()
    assert page.locator("table.board tbody tr").count() >= 3
    screenshot("race-archive")


@pytest.mark.parametrize("path", ["/", "/leaderboard/", "/races/"])
def test_pages_fit_a_360px_phone_without_horizontal_scroll(live_server, page, demo_data, screenshot, path):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}{path}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(f"phone{path.strip('/').replace('/', '-') or '-home'}")


def test_leaderboard_tabs_and_search(live_server, page, demo_data, screenshot):
    page.goto(f"{live_server.url}/leaderboard/")
    page.click("text=All time")
    assert "period=all_time" in page.url
    first_name = page.locator("table.board tbody tr td:nth-child(2)").first.inner_text()
    page.fill("#board-search", first_name)
    page.click("form[role=search] button")
    assert page.locator("table.board tbody tr td").first.inner_text() == "1"
    screenshot("leaderboard-search")
