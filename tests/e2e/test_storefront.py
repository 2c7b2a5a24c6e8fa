"""The storefront in Chromium at 360 and 1280 px (issue 32): the header's Sign in / Join (signed out) and bell /
account (signed in) are in the viewport and clickable without scrolling the header; the phone menu is a real
disclosure; no page scrolls sideways; the live race page shows its prize table within the first 900 px at 1280;
every interactive element has a visible focus style of at least 2 px; the leaderboard and race pages fall back to
polling when their socket cannot connect."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.realtime.servers import child_env, manage, web_servers

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}

IN_VIEW_AND_ON_TOP = """(sel) => {
  const el = document.querySelector(sel);
  if (!el) return {missing: true};
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width,
          onTop: hit === el || el.contains(hit), vw: innerWidth, vh: innerHeight};
}"""


def assert_reachable(page, selector: str) -> None:
    box = page.evaluate(IN_VIEW_AND_ON_TOP, selector)
    assert not box.get("missing"), selector
    assert box["width"] > 0, (selector, box)
    assert box["left"] >= 0, (selector, box)
    assert box["top"] >= 0, (selector, box)
    assert box["right"] <= box["vw"], (selector, box)
    assert box["bottom"] <= box["vh"], (selector, box)
    assert box["onTop"], (selector, box)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_header_keeps_its_key_controls_in_view(live_server, page, demo_site, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    for path in ("/", demo_site["live_race"], "/leaderboard/", "/races/"):
        page.goto(f"{live_server.url}{path}")
        assert_reachable(page, ".header-actions a.signin")
        assert_reachable(page, ".header-actions a.cta")
        assert page_width(page) <= VIEWPORTS[viewport]["width"], path
    page.locator(".header-actions a.cta").click()
    page.wait_for_url(f"{live_server.url}/accounts/register/")
    sign_in(page, live_server.url, "demo")
    for path in ("/", demo_site["live_race"], "/bonus-codes/", "/wheel/", "/support/", "/accounts/settings/"):
        page.goto(f"{live_server.url}{path}")
        assert_reachable(page, "#bell")
        assert_reachable(page, ".header-actions a.account")
        assert page_width(page) <= VIEWPORTS[viewport]["width"], path
    page.locator("#bell").click()
    page.wait_for_url(f"{live_server.url}/notifications/")


def test_the_phone_menu_is_a_disclosure_that_the_keyboard_can_use(live_server, page, demo_site):
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{live_server.url}/")
    toggle, nav = page.locator(".menu-toggle"), page.locator("#main-nav")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Races")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Races").click()
    page.wait_for_url(f"{live_server.url}/races/")
    # At 1280 there is no menu button: the links are in the header.
    page.set_viewport_size(VIEWPORTS["desktop"])
    expect(page.locator(".menu-toggle")).to_be_hidden()
    expect(nav.get_by_role("link", name="Leaderboard")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_page_scrolls_sideways(live_server, page, demo_site, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    public = ["/", "/leaderboard/", "/leaderboard/?period=all_time", "/races/", demo_site["live_race"],
              demo_site["finished_race"], demo_site["player"], "/raffles/", "/vip/", "/how-it-works/", "/faq/",
              "/provably-fair/", "/terms/", "/privacy/", "/accounts/login/", "/accounts/register/"]  # fmt: skip
    wide = {}
    for path in public:
        page.goto(f"{live_server.url}{path}")
        if page_width(page) > VIEWPORTS[viewport]["width"]:
            wide[path] = page_width(page)
    sign_in(page, live_server.url, "demo")
    for path in ["/", demo_site["live_race"], "/bonus-codes/", "/wheel/", "/support/", "/support/new/",
                 demo_site["ticket"], "/notifications/", "/accounts/settings/"]:  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        if page_width(page) > VIEWPORTS[viewport]["width"]:
            wide[f"{path} (signed in)"] = page_width(page)
    assert wide == {}


def test_the_live_race_shows_its_prize_table_in_the_first_900_px_at_1280(live_server, page, demo_site):
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.goto(f"{live_server.url}{demo_site['live_race']}")
    assert page.locator("table.standings tbody tr").count() >= 100  # a full page of standings sits beside it
    first = page.locator("table.prizes tbody tr").first.bounding_box()
    heading = page.locator("#prizes-title").bounding_box()
    assert heading["y"] < first["y"] < 900 - first["height"], (heading, first)
    assert page.locator(".pill.live").is_visible()
    expect(page.locator("[data-standings-range]")).to_have_text(re.compile(r"Showing 1–100 of \d+"))


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return {tag: el.tagName, text: (el.textContent || el.value || '').trim().slice(0, 30),
          width: parseFloat(s.outlineWidth) || 0, style: s.outlineStyle};
}"""


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_interactive_element_shows_a_focus_ring_of_at_least_2_px(live_server, page, demo_site, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    weak = []
    for path in ("/", demo_site["live_race"], "/accounts/login/"):
        page.goto(f"{live_server.url}{path}")
        seen = 0
        for _ in range(40):
            page.keyboard.press("Tab")
            focus = page.evaluate(FOCUS_STYLE)
            if focus is None:  # past the last element: the focus left the page
                break
            seen += 1
            if focus["style"] == "none" or focus["width"] < 2:
                weak.append((path, focus))
        assert seen >= 5, path  # the walk went through real controls
    assert weak == []


@pytest.mark.parametrize("kind", ["leaderboard", "race"])
def test_live_pages_poll_when_their_socket_cannot_connect(page, kind):
    from races.models import WagerRace

    call_command("seed_demo", stdout=io.StringIO())
    race = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("pk").first()
    env = child_env()
    with web_servers(1, env) as (port,):
        # A proxy that refuses WebSockets: every socket the page opens is closed at once.
        page.route_web_socket(re.compile(r"/ws/"), lambda ws: ws.close())
        path = "/leaderboard/?period=today" if kind == "leaderboard" else f"/races/{race.pk}/"
        page.goto(f"http://127.0.0.1:{port}{path}")
        page.evaluate("window.__noReload = true")
        cue = page.locator("[data-updated-cue]")
        expect(page.locator("html")).to_have_attribute("data-live", "polling", timeout=10_000)
        expect(cue).to_have_attribute("data-refreshes", "1", timeout=25_000)  # the first poll, 15 s on
        sync = manage("sync_wagers", env=env)
        assert sync.returncode == 0, sync.stderr
        expect(cue).to_have_attribute("data-refreshes", "2", timeout=25_000)  # the next poll, 15 s later
        assert page.evaluate("window.__noReload") is True
        assert re.fullmatch(r"Updated \d\d:\d\d:\d\d UTC", cue.inner_text())
