"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

They run in their own pytest call (`make test-e2e`): pytest-playwright's sync API runs an event loop that
clashes with pytest-asyncio in one process.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from notifications.services import notify
from races.models import Player, WagerRace
from support.models import SupportTicket
from support.services import ticket_message_post, ticket_open
from tests.factories import TEST_PASSWORD
from vip.models import BonusCode

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _cookie_notice_answered(request):
    """Browser tests start as a visitor who has answered the cookie notice ("necessary cookies only"): its sheet at
    the bottom of the window would otherwise cover what they click. Tests of the notice itself ask for
    `cookie_notice_unanswered`."""
    if "page" not in request.fixturenames or "cookie_notice_unanswered" in request.fixturenames:
        return
    context = request.getfixturevalue("context")
    for host in ("localhost", "127.0.0.1"):
        context.add_cookies([{"name": "gv_consent", "value": "denied", "domain": host, "path": "/"}])


@pytest.fixture
def cookie_notice_unanswered():
    """Marks a browser test that sees the cookie notice as a first-time visitor does."""


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under tests/artifacts/ (git-ignored; CI keeps it as an artifact)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def network(page):
    """Watches what `page` has in flight from its first request on (see NetworkWatch)."""
    return NetworkWatch(page)


@pytest.fixture
def demo_site():
    """The demo data (players, races, codes, wheel), the demo player and an admin with known passwords, a ticket."""
    call_command("seed_demo", stdout=io.StringIO())
    for user in User.objects.filter(username__in=["demo", "admin"]):
        user.set_password(TEST_PASSWORD)
        user.email_verified = True
        user.save()
    demo, admin = User.objects.get(username="demo"), User.objects.get(username="admin")
    ticket = ticket_open(demo, subject="Where is my prize?", description="The weekly race ended yesterday.")
    ticket_message_post(ticket, admin, "It is on its way; payouts run every Monday.")
    notify(demo, "ticket.reply", title="Support replied", body="It is on its way.", url=f"/support/{ticket.pk}/")
    live = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("pk").first()
    finished = WagerRace.objects.filter(status=WagerRace.Status.COMPLETED).order_by("pk").first()
    return {
        "live_race": f"/races/{live.pk}/",
        "finished_race": f"/races/{(finished or live).pk}/",
        "player": f"/players/{Player.objects.order_by('-wager_all_time').first().uid}/",
        "ticket": f"/support/{ticket.pk}/",
        "admin_race": f"/admin/races/wagerrace/{live.pk}/change/",
        "admin_ticket": f"/admin/support/supportticket/{SupportTicket.objects.get().pk}/change/",
        "admin_player": f"/admin/races/player/{Player.objects.order_by('pk').first().pk}/change/",
        "code": BonusCode.objects.order_by("pk").first().code,
    }


def sign_in(page, base: str, username: str, *, admin: bool = False) -> None:
    page.goto(f"{base}/admin/login/" if admin else f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    """Sign out the way a person does: on a phone the button is in the menu, so open it first."""
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


class NetworkWatch:
    """What a page has in flight (HTTP requests until they finish or fail) and when it last did anything on the
    network (a request, an answer, a WebSocket opened or closed). `settle()` waits until nothing is in flight and
    nothing has happened for `quiet` seconds.

    Playwright's "networkidle" waits for 500 ms without requests and ignores WebSockets; on the live server (no
    WebSockets) a page's socket fails within milliseconds and its close starts the fallback fetches (the bell's
    count). Counting the socket as activity lets a shorter quiet spell mean the same: every fetch the page makes
    as it loads has been answered."""

    def __init__(self, page, quiet: float = 0.15) -> None:
        self.page, self.quiet, self.inflight, self.last = page, quiet, set(), time.monotonic()
        page.on("request", lambda r: self._seen(self.inflight.add, r))
        page.on("requestfinished", lambda r: self._seen(self.inflight.discard, r))
        page.on("requestfailed", lambda r: self._seen(self.inflight.discard, r))
        page.on("websocket", lambda ws: self._seen(ws.on, "close", lambda _ws: self._seen(lambda: None)))

    def _seen(self, change, *args) -> None:
        change(*args)
        self.last = time.monotonic()

    def settle(self, timeout: float = 30) -> None:
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        while self.inflight or time.monotonic() - self.last < self.quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never settled: {[r.url for r in self.inflight]}")
            self.page.wait_for_timeout(20)  # lets Playwright deliver the page's events
