"""Notifications in Chromium against a real ASGI server (uvicorn + Redis layer) and a real sync in another
process, fed by a local affiliate server: the bell rises live, the list shows it, reading clears it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from races.models import Player
from races.services.lifecycle import race_start
from races.services.sync import sync_wagers
from tests.e2e.test_rewards_support import _artifact, signed_in_page
from tests.factories import UserFactory, WagerRaceFactory
from tests.races.conftest import FEED, feed_rows
from tests.realtime.servers import child_env, manage, web_servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
BELL = "document.getElementById('bell').getAttribute('data-unread')"


def _answer(httpserver, body: dict) -> None:
    httpserver.clear()
    httpserver.expect_request(FEED).respond_with_json(body)


def test_overtaken_in_a_live_race_the_bell_rises_without_reload_and_only_for_that_player(browser, httpserver):
    settings.AFFILIATE_API_URL, settings.AFFILIATE_API_TOKEN = httpserver.url_for(FEED), "tok"
    _answer(httpserver, feed_rows(alpha=("0", "0", "1000"), rex=("0", "0", "900"), bee=("0", "0", "100")))
    assert sync_wagers().ok  # the players exist: their all-time wagers are the race's baselines
    race = WagerRaceFactory(
        type="custom", title="Sprint Race", start_date=timezone.now() - timedelta(minutes=5),
        end_date=timezone.now() + timedelta(days=1), prize_pool=Decimal("100"), prize_distribution={"1": 100},
    )  # fmt: skip
    race_start(race.pk, now=race.start_date)
    _answer(httpserver, feed_rows(alpha=("0", "0", "1500"), rex=("0", "0", "1000"), bee=("0", "0", "150")))
    assert sync_wagers().ok  # alpha leads (+500 vs +100)
    player_a = UserFactory(username="alpha_fan", player=Player.objects.get(uid="alpha"))
    player_b = UserFactory(username="bee_fan", player=Player.objects.get(uid="bee"))

    env = child_env(AFFILIATE_API_URL=settings.AFFILIATE_API_URL, AFFILIATE_API_TOKEN="tok")
    with web_servers(1, env) as (port,):
        base = f"http://127.0.0.1:{port}"
        page_a, page_b = signed_in_page(browser, base, player_a), signed_in_page(browser, base, player_b)
        page_a.goto(f"{base}/races/{race.pk}/")
        page_b.goto(f"{base}/notifications/")
        bell = page_a.locator("#bell")
        expect(bell).to_have_attribute("data-unread", "0")  # expect() polls without eval (the CSP forbids it)
        page_a.evaluate("window.__noReload = true")

        # rex overtakes alpha: a sync in another process, through the real feed client.
        _answer(httpserver, feed_rows(alpha=("0", "0", "1500"), rex=("0", "0", "2600"), bee=("0", "0", "150")))
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        expect(bell).to_have_attribute("data-unread", "1", timeout=10_000)
        assert page_a.evaluate("window.__noReload") is True
        assert page_a.locator("#bell-count").inner_text() == "1"
        assert page_a.locator("#bell").get_attribute("aria-label") == "Notifications, 1 unread"
        page_a.screenshot(path=str(_artifact("notifications-bell")))

        page_a.click("#bell")
        item = page_a.locator("#notification-list li.unread").first
        assert "Rex overtook you in Sprint Race" in item.inner_text()
        page_a.screenshot(path=str(_artifact("notifications-list")), full_page=True)
        page_a.click("#read-all")
        page_a.wait_for_selector("#notification-list li.note")
        assert page_a.locator("#notification-list li.unread").count() == 0
        assert page_a.locator("#bell-count").is_hidden()
        assert page_a.evaluate(BELL) == "0"

        # Player B: nothing arrived live, nothing in the list, on reload either.
        assert page_b.evaluate(BELL) == "0"
        assert "overtook" not in page_b.content()
        page_b.reload()
        assert "overtook" not in page_b.locator("main").inner_text()
        assert page_b.locator("#bell-count").is_hidden()
