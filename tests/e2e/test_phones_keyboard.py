"""Phones at 360 px (no sideways scrolling, the figure each page exists for readable in full) and the keyboard only
(sign in, leaderboard tabs, spin, claim a code, reply to a ticket), in Chromium."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from races.feed.leaderboard import leaderboard_cache_clear
from races.models import Player, WagerRace
from races.services.standings import races_refresh_after_sync
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import TEST_PASSWORD
from vip.models import WheelSegment
from vip.services import wheel_spin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 360, "height": 780}

# Where an element's text sits: every line box inside the viewport, how many lines, and whether it is clipped.
BOXES = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const rects = Array.from(el.getClientRects());
  const lines = new Set(rects.map((r) => Math.round(r.top))).size;
  return {
    text: el.innerText.trim(), lines: lines,
    left: Math.min(...rects.map((r) => r.left)), right: Math.max(...rects.map((r) => r.right)),
    clipped: el.scrollWidth > el.clientWidth + 1,
  };
})"""


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_readable(page, selector: str, *, one_line: bool = False) -> list[dict]:
    boxes = page.evaluate(BOXES, selector)
    assert boxes, f"nothing matches {selector}"
    for box in boxes:
        assert box["left"] >= 0, (selector, box)
        assert box["right"] <= PHONE["width"] + 0.5, (selector, box)
        assert not box["clipped"], (selector, box)
        if one_line:
            assert box["lines"] == 1, (selector, box)
    return boxes


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus (it must be reachable by keyboard)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus by Tab")


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


@pytest.fixture
def long_figures(demo_site):
    """The worst case for a phone: the race leader with a long name and a wager in the tens of millions."""
    leader = Player.objects.order_by("-wager_month").first()
    Player.objects.filter(pk=leader.pk).update(
        name="Supercalifragilistic_Wagerer_2026", wager_month=Decimal("12345678.90"),
        wager_week=Decimal("12345678.90"), wager_all_time=Decimal("99345678.90"),
    )  # fmt: skip
    races_refresh_after_sync(timezone.now())
    leaderboard_cache_clear()
    return demo_site


def test_a_phone_shows_the_race_page_whole(live_server, page, long_figures):
    race = WagerRace.objects.filter(status=WagerRace.Status.LIVE).order_by("pk").first()
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/races/{race.pk}/")
    assert page_width(page) <= PHONE["width"]
    headers = assert_readable(page, "table.standings thead th")
    assert [h["text"].lower() for h in headers] == ["#", "player", "wagered", "prize"]  # shown in capitals (CSS)
    assert_readable(page, "table.standings tbody tr:first-child td.num", one_line=True)
    # The podium: names break only between words, amounts never.
    figures = assert_readable(page, ".podium .figure:not(:empty)", one_line=True)
    assert any(f["text"] == "$12,345,678.90" for f in figures), figures
    assert_readable(page, "table.prizes td.num", one_line=True)
    header = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert header <= 100, header  # brand and one scrolling row of links
    page.screenshot(path=str(ARTIFACTS / "phone-360-race-page.png"))


def test_a_phone_shows_the_leaderboard_whole(live_server, page, long_figures):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/leaderboard/?period=monthly")
    assert page_width(page) <= PHONE["width"]
    wagers = assert_readable(page, "table.leaderboard tbody td.num", one_line=True)
    assert wagers[0]["text"] == "$12,345,678.90"
    assert page.locator(".main-nav a[aria-current=page]").inner_text() == "Leaderboard"


def test_a_phone_shows_the_wheel_and_its_verify_page_whole(live_server, page, demo_site):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/wheel/")
    assert page_width(page) <= PHONE["width"]
    (seed,) = assert_readable(page, "#seed-hash")
    assert len(seed["text"]) == 64  # the whole hash, wrapped inside the page
    spin = wheel_spin(User.objects.get(username="demo"), "phone")
    page.goto(
        f"{live_server.url}/wheel/verify/?server_seed={spin.server_seed}&client_seed={spin.client_seed}"
        f"&nonce={spin.nonce}"
    )
    assert page_width(page) <= PHONE["width"]
    (verified,) = assert_readable(page, "#verify-result code.seed")
    assert verified["text"] == spin.server_seed_hash
    assert "it matches the recorded outcome" in page.locator("#verify-result").inner_text()


def test_no_page_scrolls_sideways_on_a_phone(live_server, page, demo_site):
    """Every page of the accessibility suite, signed out and signed in, fits 360 px."""
    from tests.e2e.test_accessibility import SIGNED_IN, SIGNED_OUT

    page.set_viewport_size(PHONE)
    wide = []
    for signed_in, paths in ((False, SIGNED_OUT), (True, SIGNED_IN)):
        if signed_in:
            sign_in(page, live_server.url, "demo")
        for raw in paths:
            path = raw.format(**demo_site)
            page.goto(f"{live_server.url}{path}")
            if page_width(page) > PHONE["width"]:
                wide.append((path, page_width(page)))
    assert wide == []


def test_a_phone_shows_the_bonus_codes_whole(live_server, page, demo_site):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/bonus-codes/")
    assert page_width(page) <= PHONE["width"]
    codes = assert_readable(page, ".card .card-title code", one_line=True)
    assert demo_site["code"] in [c["text"] for c in codes]
    assert_readable(page, ".card .pool", one_line=True)  # the amount


def test_sign_in_and_the_leaderboard_tabs_by_keyboard(live_server, page, demo_site):
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    assert focused(page) == "id_password"
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".header-actions a.account").is_visible()

    page.goto(f"{live_server.url}/leaderboard/")
    tab_to(page, ".tabs a[href='?period=all_time']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/leaderboard/?period=all_time")
    assert page.locator(".tabs a[aria-current=page]").inner_text() == "All time"


def test_spin_by_keyboard_keeps_the_focus_and_announces_the_result(live_server, page, demo_site):
    page.emulate_media(reduced_motion="reduce")  # the result at once; the turning itself is tested elsewhere
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/wheel/")
    tab_to(page, "#spin")
    page.keyboard.press("Enter")
    page.wait_for_selector("#spin-result[data-segment]", timeout=10_000)
    assert focused(page) == "spin-result"  # not <body>: the next Tab continues from the result
    assert page.get_attribute("#spin-result", "role") == "status"  # read out by screen readers
    result = page.locator("#spin-result").inner_text()
    segment = page.get_attribute("#spin-result", "data-segment")
    assert segment in WheelSegment.objects.values_list("label", flat=True)
    if page.get_attribute("#spin-result", "data-state") == "win":
        assert result == f"You won {segment}"
    else:
        assert result.startswith("No prize today — next spin in ")


def test_claim_a_code_by_keyboard(live_server, page, demo_site):
    code = demo_site["code"]
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/bonus-codes/")
    tab_to(page, f'[data-code="{code}"] button[type=submit]')
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert f"Claimed {code}" in page.locator("[role=status] .flash").inner_text()
    assert page.locator(f'[data-code="{code}"] .pill').inner_text() == "✓ Claimed"


def test_reply_to_a_ticket_by_keyboard(live_server, page, demo_site):
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}{demo_site['ticket']}")
    tab_to(page, "#reply-body")
    page.keyboard.type("Thanks, it arrived.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Thanks, it arrived." in page.locator(".thread").inner_text()
