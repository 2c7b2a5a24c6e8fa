"""Stream overlays in Chromium against a real ASGI server (uvicorn + Redis layer), with the sync and the
revocation in other processes (issue 34, acceptance 4): a new leader shows within a second of the sync, revoking
closes the page's socket and a reload is 404, and the overlay sets no cookie."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from playwright.sync_api import expect

from overlays.services import overlay_link_create
from races.feed.models import TransformationLog
from races.services.sync import sync_wagers
from tests.races.conftest import FEED, feed_rows
from tests.realtime.servers import child_env, manage, web_servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
FIRST = "#overlay .row[data-rank='1'] .name"


def _answer(httpserver, body: dict) -> None:
    httpserver.clear()
    httpserver.expect_request(FEED).respond_with_json(body)


def _last_sync_ms() -> float:
    """When the last sync wrote its log: inside its transaction, before the commit and the event it sends."""
    log = TransformationLog.objects.filter(payload__kind="sync").order_by("-created_at").first()
    return log.created_at.timestamp() * 1000


def test_an_overlay_shows_a_new_leader_within_a_second_and_goes_dark_when_revoked(
    page, httpserver, cookie_notice_unanswered
):
    settings.AFFILIATE_API_URL, settings.AFFILIATE_API_TOKEN = httpserver.url_for(FEED), "tok"
    _answer(httpserver, feed_rows(alpha=("0", "3000", "9000"), rex=("0", "2000", "9000"), bee=("0", "100", "900")))
    assert sync_wagers().ok
    link = overlay_link_create("leaderboard", n=5, period="monthly")
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws))

    env = child_env(AFFILIATE_API_URL=settings.AFFILIATE_API_URL, AFFILIATE_API_TOKEN="tok")
    with web_servers(1, env) as (port,):
        base = f"http://127.0.0.1:{port}"
        page.context.add_cookies([{"name": "sessionid", "value": "someone-elses", "url": base}])
        response = page.goto(base + link.path)
        assert response.status == 200
        assert "set-cookie" not in response.all_headers()
        assert response.all_headers()["cache-control"] == "no-store"
        expect(page.locator("html")).to_have_attribute("data-state", "live")
        expect(page.locator(FIRST)).to_have_text("Alpha")
        assert [s.url for s in sockets] == [f"ws://127.0.0.1:{port}/ws/overlay/{link.token}/"]
        # Record when the leader changes, in the page's own clock (the same host's clock as the server's).
        page.evaluate(
            "new MutationObserver(() => { const n = document.querySelector(\"#overlay .row[data-rank='1'] .name\");"
            " if (n && n.textContent === 'Rex' && !window.__leaderAt) window.__leaderAt = Date.now(); })"
            ".observe(document.getElementById('overlay'), {subtree: true, childList: true, characterData: true,"
            " attributes: true})"
        )

        # Rex takes the lead: a sync in another process, through the real feed client.
        _answer(httpserver, feed_rows(alpha=("0", "3000", "9000"), rex=("0", "5000", "12000"), bee=("0", "100", "900")))
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        expect(page.locator(FIRST)).to_have_text("Rex", timeout=5_000)
        latency = page.evaluate("window.__leaderAt") - _last_sync_ms()
        print(f"overlay: the new leader showed {latency:.0f} ms after the sync")
        assert 0 < latency < 1000, f"the new leader showed {latency:.0f} ms after the sync"
        assert page.locator("#overlay .row").count() == 3

        # Revoked from another process: the socket closes, the overlay goes blank, a reload is 404.
        closed = []
        sockets[0].on("close", lambda ws: closed.append(datetime.now(UTC)))
        code = f"from overlays.services import overlay_link_revoke; overlay_link_revoke({link.pk})"
        revoke = manage("shell", "-c", code, env=env)
        assert revoke.returncode == 0, revoke.stderr
        expect(page.locator("html")).to_have_attribute("data-state", "revoked", timeout=5_000)
        assert closed
        assert sockets[0].is_closed()
        expect(page.locator("#overlay .row")).to_have_count(0)
        assert len(sockets) == 1  # no reconnect with a revoked token
        # Nothing the overlay loaded (page, script, style, socket) set or deleted a cookie: the visitor's stays.
        assert [c["name"] for c in page.context.cookies()] == ["sessionid"]
        again = page.reload()
        assert again.status == 404
        assert "set-cookie" not in again.all_headers()
