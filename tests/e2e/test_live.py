"""Live pages in Chromium against a real ASGI server (uvicorn + Redis layer): no reload needed after a sync."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.realtime.servers import child_env, manage, web_servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_leaderboard_page_updates_without_reload_after_a_sync(page, screenshot):
    call_command("seed_demo", stdout=io.StringIO())
    env = child_env()
    with web_servers(1, env) as (port,):
        page.goto(f"http://127.0.0.1:{port}/leaderboard/?period=today")
        page.evaluate("window.__noReload = true")
        cue = page.locator("[data-updated-cue]")
        # The snapshot sent on connect makes the page re-read the API once...
        # (expect() polls without eval, which the site's Content-Security-Policy rightly forbids)
        expect(cue).to_have_attribute("data-refreshes", "1")
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        # ...and the sync's leaderboard.updated event once more, without a reload.
        expect(cue).to_have_attribute("data-refreshes", "2", timeout=10_000)
        assert "Updated" in page.locator("[data-updated-cue]").inner_text()
        assert page.evaluate("window.__noReload") is True
        assert page.locator("table.board tbody tr").count() == 50
        screenshot("leaderboard-live")
