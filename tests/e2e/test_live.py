"""Live pages in Chromium against a real ASGI server (uvicorn + Redis layer): no reload needed after a sync."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.realtime.servers import child_env, manage, web_servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _open_live(page, url: str):
    """Open a live page, mark the window (a reload would clear the mark) and wait for the connect snapshot's
    refresh; returns the "Updated" cue, whose data-refreshes counts the page's refreshes.
    (expect() polls without eval, which the site's Content-Security-Policy rightly forbids.)"""
    page.goto(url)
    page.evaluate("window.__noReload = true")
    cue = page.locator("[data-updated-cue]")
    expect(cue).to_have_attribute("data-refreshes", "1")
    return cue


def test_the_leaderboard_page_updates_without_reload_after_a_sync(page, screenshot):
    call_command("seed_demo", stdout=io.StringIO())
    env = child_env()
    with web_servers(1, env) as (port,):
        # The snapshot sent on connect makes the page re-read the API once...
        cue = _open_live(page, f"http://127.0.0.1:{port}/leaderboard/?period=today")
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        # ...and the sync's leaderboard.updated event once more, without a reload.
        expect(cue).to_have_attribute("data-refreshes", "2", timeout=10_000)
        assert "Updated" in page.locator("[data-updated-cue]").inner_text()
        assert page.evaluate("window.__noReload") is True
        assert page.locator("table.board tbody tr").count() == 50
        screenshot("leaderboard-live")


ROWS = "table.board.leaderboard tbody tr"


def _rows(page) -> dict[str, tuple[str, str, bool]]:
    """uid → (rank, wagered, marked as moved) of every row on the page."""
    return {
        row.get_attribute("data-uid"): (
            row.get_attribute("data-rank"),
            row.get_attribute("data-wagered"),
            "moved" in (row.get_attribute("class") or ""),
        )
        for row in page.locator(ROWS).all()
    }


def test_live_rows_keep_their_tier_colours_and_only_changed_rows_are_marked(page):
    call_command("seed_demo", stdout=io.StringIO())
    env = child_env()
    with web_servers(1, env) as (port,):
        page.goto(f"http://127.0.0.1:{port}/leaderboard/?period=all_time")
        cue = page.locator("[data-updated-cue]")
        expect(cue).to_have_attribute("data-refreshes", "1")  # rebuilt once from the API, with nothing new
        first = _rows(page)
        assert not any(moved for _, _, moved in first.values())  # same data: nothing is marked
        badge = page.locator(f"{ROWS} span.tier").first
        colour = badge.evaluate("node => getComputedStyle(node).getPropertyValue('--tier').trim()")
        assert colour.startswith("#")  # the rebuilt badge kept its tier colour
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        expect(cue).to_have_attribute("data-refreshes", "2", timeout=10_000)
        after = _rows(page)
        changed = {
            uid for uid, (rank, wagered, _) in after.items() if uid in first and first[uid][:2] != (rank, wagered)
        }
        marked = {uid for uid, (_, _, moved) in after.items() if moved}
        assert marked == changed
        assert (
            page.locator(f"{ROWS} span.tier")
            .first.evaluate("node => getComputedStyle(node).getPropertyValue('--tier').trim()")
            .startswith("#")
        )


def test_the_race_podium_follows_the_live_standings(page):
    """The podium above the table is redrawn with the standings after a sync (it used to stay as first drawn)."""
    from races.models import RaceParticipant, WagerRace

    call_command("seed_demo", stdout=io.StringIO())
    race = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("pk").first()
    env = child_env()
    with web_servers(1, env) as (port,):
        cue = _open_live(page, f"http://127.0.0.1:{port}/races/{race.pk}/")
        # What the page shows is made stale on purpose; the next live refresh must redraw it from the API.
        page.evaluate(
            "document.querySelectorAll('.podium .step a').forEach((a) => { a.textContent = 'stale'; });"
            "document.querySelectorAll('.podium .figure').forEach((f) => { f.textContent = '$0.00'; });"
        )
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        expect(cue).to_have_attribute("data-refreshes", "2", timeout=10_000)
        top = list(RaceParticipant.objects.filter(race=race, rank__lte=3).order_by("rank"))
        for place, participant in enumerate(top, start=1):
            step = page.locator(f".podium .step-{place}")
            expect(step.locator("a")).to_have_text(participant.player.name)
            expect(step.locator(".figure").first).not_to_have_text("$0.00")
        assert page.evaluate("window.__noReload") is True


def test_a_live_race_drawn_before_anyone_wagered_shows_its_table_and_podium_when_someone_does(page):
    """The page of a live race without standings keeps a hidden table and podium; the first standing shows both
    (and drops the "nobody yet" line) without a reload."""
    from races.models import Player, WagerRace
    from races.services.entries import race_join
    from tests.factories import WagerRaceFactory

    call_command("seed_demo", stdout=io.StringIO())
    race = WagerRaceFactory(status=WagerRace.Status.LIVE, entry=WagerRace.Entry.OPT_IN, title="Quiet start")
    env = child_env()
    with web_servers(1, env) as (port,):
        _open_live(page, f"http://127.0.0.1:{port}/races/{race.pk}/")
        empty = page.locator("[data-standings-empty]")
        expect(empty).to_be_visible()
        expect(page.locator("table.standings")).to_be_hidden()
        expect(page.locator(".podium")).to_be_hidden()
        player = Player.objects.filter(wager_month__gt=0).order_by("-wager_month").first()
        race_join(race.pk, player=player)  # counted at once from the month's counter
        sync = manage("sync_wagers", env=env)  # its race.updated event reaches the page
        assert sync.returncode == 0, sync.stderr
        expect(page.locator("table.standings tbody tr")).to_have_count(1, timeout=10_000)
        expect(page.locator("table.standings")).to_be_visible()
        expect(empty).to_be_hidden()
        expect(page.locator(".podium")).to_be_visible()
        expect(page.locator(".podium .step-1 a")).to_have_text(player.name)
        expect(page.locator(".podium .step")).to_have_count(1)
        assert page.evaluate("window.__noReload") is True
