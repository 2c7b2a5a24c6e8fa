"""The public site in Chromium: sign-up to profile, countdowns, archive, phone layout."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from core.money import money_text
from races.models import WagerRace
from races.services.lifecycle import race_finalize
from tests.e2e.conftest import ARTIFACTS, sign_out

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
    page.check("#id_adult")
    page.check("#id_terms")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/settings/")
    assert "email not confirmed" in page.content()
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Email confirmed"
    sign_out(page)
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
    tiles = page.locator(".hero [data-countdown-tiles]")
    first = tiles.inner_text()
    assert re.fullmatch(r"\d\d\s*DAYS\s*\d\d\s*HRS\s*\d\d\s*MIN\s*\d\d\s*SEC", first), first
    expect(tiles).not_to_have_text(first, timeout=1200)  # ticks within 1.2 s; answers as soon as it does
    # The same moment as text for screen readers (the tiles are hidden from them).
    assert page.locator(".hero .countdown-tiles time").inner_text().startswith("Ends ")
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


PHONE = {"width": 360, "height": 740}
# Rank, name and wager of the leading row in full view, and the table itself not scrolled sideways.
ROW_IN_VIEW = """(table) => {
  const row = document.querySelector(table + " tbody tr");
  const wrap = document.querySelector(table).closest(".table-wrap") || document.querySelector(table);
  const cells = Array.from(row.cells).filter((c) => c.offsetParent !== null);
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
  return {
    cells: cells.map((c) => [c.innerText.trim(), ...box(c)]),
    sideways: wrap.scrollWidth - wrap.clientWidth,
    page: document.documentElement.scrollWidth,
  };
}"""


def _long_named_leader():
    """The worst case for a phone: a long name and a wager in the tens of millions at the top."""
    from decimal import Decimal

    from races.feed.leaderboard import leaderboard_cache_clear
    from races.models import Player
    from races.services.standings import races_refresh_after_sync

    leader = Player.objects.order_by("-wager_month").first()
    Player.objects.filter(pk=leader.pk).update(
        name="Supercalifragilistic_Wagerer_2026", wager_month=Decimal("12345678.90"),
        wager_week=Decimal("12345678.90"), wager_all_time=Decimal("99345678.90"),
    )  # fmt: skip
    races_refresh_after_sync(timezone.now())
    leaderboard_cache_clear()
    leader.refresh_from_db()
    return leader


def _assert_rank_name_and_wager_in_view(page, table: str, wager: str) -> None:
    seen = page.evaluate(ROW_IN_VIEW, table)
    texts = [c[0] for c in seen["cells"]]
    assert texts[0] == "1", texts
    assert "Supercalifragilistic" in texts[1], texts
    assert wager in texts, texts
    for text, left, right in seen["cells"][:2] + [c for c in seen["cells"] if c[0] == wager]:
        assert 0 <= left < right <= PHONE["width"], (text, left, right)
    _assert_no_sideways_scroll(seen)


def _assert_no_sideways_scroll(seen: dict) -> None:
    assert seen["sideways"] <= 0, seen
    assert seen["page"] <= PHONE["width"], seen


@pytest.mark.parametrize("where", ["leaderboard", "race", "profile"])
def test_on_a_360px_phone_the_leaders_rank_name_and_wager_are_in_view(live_server, page, demo_data, where):
    leader = _long_named_leader()
    race = WagerRace.objects.get(type=WagerRace.Type.MONTHLY, status=WagerRace.Status.LIVE)
    page.set_viewport_size(PHONE)
    if where == "leaderboard":
        page.goto(f"{live_server.url}/leaderboard/?period=monthly")
        page.wait_for_selector("table.board.leaderboard tbody tr")
        _assert_rank_name_and_wager_in_view(page, "table.board.leaderboard", "$12,345,678.90")
    elif where == "race":
        page.goto(f"{live_server.url}/races/{race.pk}/")
        wagered = race.participants.get(player=leader).wagered
        _assert_rank_name_and_wager_in_view(page, "table.board.standings", money_text(wagered))
    else:
        page.goto(f"{live_server.url}/players/{leader.uid}/")
        seen = page.evaluate(ROW_IN_VIEW, "table.board")
        _assert_no_sideways_scroll(seen)
        assert all(0 <= left < right <= PHONE["width"] for _, left, right in seen["cells"]), seen
    page.screenshot(path=str(ARTIFACTS / f"phone-360-{where}.png"))  # what the phone shows, not the whole page
