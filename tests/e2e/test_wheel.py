"""The wheel page in Chromium at 360 and 1280 px (issue 32): every prize has a visible label with its chance, the
page never scrolls sideways, a spin shows its result card and a new commitment (never the hash it just used), and
axe finds nothing critical or serious before or after the spin."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS
from tests.factories import PlayerFactory, UserFactory, WheelSegmentFactory
from vip.models import WheelSegment, WheelSpin
from vip.selectors import wheel_prizes, wheel_segments

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT = r"(\d+ h \d+ m|\d+ m|less than a minute)"  # vip.views.wait_text
VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}

# Each prize row's label and chance as laid out: its box and its text.
ROWS = """() => Array.from(document.querySelectorAll('#prize-ladder tbody tr')).map((tr) => {
  const part = (sel) => { const el = tr.querySelector(sel); const r = el.getBoundingClientRect();
    return { text: el.innerText.trim(), left: r.left, right: r.right, width: r.width, height: r.height,
             visible: getComputedStyle(el).visibility === 'visible' && el.checkVisibility() }; };
  return { positions: tr.dataset.positions, hit: tr.classList.contains('is-hit'),
           name: part('.prize-name'), chance: part('.prize-chance') };
})"""


def width_of(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def serious(page) -> list[str]:
    result = AXE.run(page, options=AXE_OPTIONS)
    return [
        f"{v['impact']} {v['id']}: {' '.join(v['nodes'][0]['target'])}"
        for v in result.response["violations"]
        if v["impact"] in {"critical", "serious"}
    ]


def assert_every_prize_labelled(page, width: int) -> list[dict]:
    rows = page.evaluate(ROWS)
    expected = wheel_prizes(wheel_segments())
    assert [r["name"]["text"] for r in rows] == [p.label for p in expected]
    for row in rows:
        for part in (row["name"], row["chance"]):
            assert part["visible"], row
            assert part["text"], row
            assert part["width"] > 0, row
            assert part["height"] > 0, row
            assert part["left"] >= 0, row
            assert part["right"] <= width + 0.5, row
        assert row["chance"]["text"].endswith(" %"), row
    return rows


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_prize_is_labelled_and_a_spin_shows_a_new_commitment(live_server, page, demo_site, screenshot, viewport):
    size = VIEWPORTS[viewport]
    page.set_viewport_size(size)
    sign_in(page, live_server.url, "demo")
    page.goto(f"{live_server.url}/wheel/")
    page.wait_for_load_state("load")
    assert_every_prize_labelled(page, size["width"])
    assert len(page.evaluate(ROWS)) >= 2  # the demo wheel: prizes and a "No prize" row
    assert width_of(page) <= size["width"]
    assert page.locator("#commitment").inner_text().startswith("Commitment for your next spin:")
    committed = page.locator("#seed-hash").inner_text()
    assert serious(page) == []
    screenshot(f"wheel-{viewport}-before")

    page.click("#spin")
    page.wait_for_selector("#spin-result[data-segment]", timeout=10_000)
    page.wait_for_selector("#commitment:not([hidden])", timeout=10_000)
    spin = WheelSpin.objects.get(user__username="demo")
    # The card: the seeds behind "Verify", the hash this spin used there, a new one as the next commitment.
    assert page.locator("#spin-verify").evaluate("el => el.open") is False
    used = page.locator("#used-hash").text_content()
    assert used == spin.server_seed_hash == committed
    assert page.locator("#commitment").is_visible()
    assert page.locator("#commitment").inner_text().startswith("Commitment for your next spin:")
    upcoming = page.locator("#seed-hash").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", upcoming)
    assert upcoming != used
    # The row the server drew is the one lit up.
    rows = assert_every_prize_labelled(page, size["width"])
    (hit,) = [r for r in rows if r["hit"]]
    assert str(spin.segment.position) in hit["positions"].split()
    headline = page.locator("#spin-result").inner_text()
    if spin.reward_code_id:
        assert headline == f"You won {spin.segment.label}"
    else:
        assert re.fullmatch(rf"No prize today — next spin in {WAIT}", headline), headline
    assert width_of(page) <= size["width"]
    assert serious(page) == []
    page.click("#spin-verify summary")
    assert page.locator("#spin-verify").get_by_text(spin.server_seed).is_visible()
    assert width_of(page) <= size["width"]
    assert serious(page) == []
    screenshot(f"wheel-{viewport}-after")


def _spinner(label: str, reward: str) -> None:
    """A verified player and a one-segment wheel, so the spin's outcome is known."""
    UserFactory(username="spinner", email_verified=True, verification_status="verified", player=PlayerFactory())
    WheelSegment.objects.all().delete()
    WheelSegmentFactory(position=0, label=label, weight=1, reward_amount=Decimal(reward), color="#FACC15")


def test_a_win_shows_the_code_with_a_copy_button_and_how_to_claim_it(live_server, page):
    _spinner("$5 bonus", "5")
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live_server.url, "spinner")
    page.goto(f"{live_server.url}/wheel/")
    page.click("#spin")
    page.wait_for_selector("#spin-result[data-state=win]", timeout=10_000)
    code = WheelSpin.objects.select_related("reward_code").get().reward_code.code
    assert page.locator("#spin-result").inner_text() == "You won $5 bonus"
    assert page.locator("#reward-code").inner_text() == code
    assert page.locator("#copy-code").is_visible()
    assert page.locator("[data-when=win]").is_visible()
    assert not page.locator("[data-when=none]").is_visible()
    assert "How to claim:" in page.locator(".wheel-how").inner_text()
    assert re.fullmatch(rf"Next spin in {WAIT}", page.locator(".wheel-next").inner_text())
    assert not page.locator("#spin-form").is_visible()


def test_no_prize_says_when_the_next_spin_is(live_server, page):
    _spinner("Try again", "0")
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live_server.url, "spinner")
    page.goto(f"{live_server.url}/wheel/")
    page.click("#spin")
    page.wait_for_selector("#spin-result[data-state=none]", timeout=10_000)
    headline = page.locator("#spin-result").inner_text()
    assert re.fullmatch(rf"No prize today — next spin in {WAIT}", headline), headline
    assert "Try again" not in page.locator("#main").inner_text()
    assert not page.locator("[data-when=win]").is_visible()
    # The same card after a reload, rendered by the server.
    page.reload()
    assert page.locator("#spin-result").inner_text().startswith("No prize today — next spin in ")
    assert page.locator("#prize-ladder tr.is-hit .prize-name").inner_text() == "No prize"
    assert WheelSpin.objects.filter(user__username="spinner").count() == 1


def test_without_the_state_after_a_spin_no_commitment_is_shown_rather_than_the_used_one(live_server, page):
    """GET /api/v1/wheel/ fails after the spin: the page cannot know the next commitment, so it shows none (never
    the hash on screen, which the spin just used), and counts down to the UTC midnight after the spin's day."""
    _spinner("Try again", "0")
    page.emulate_media(reduced_motion="reduce")
    sign_in(page, live_server.url, "spinner")
    page.goto(f"{live_server.url}/wheel/")
    page.route("**/api/v1/wheel/", lambda route: route.abort())
    page.click("#spin")
    page.wait_for_selector("#spin-result[data-state=none]", timeout=10_000)
    assert page.locator("#commitment").is_hidden()
    assert re.fullmatch(rf"No prize today — next spin in {WAIT}", page.locator("#spin-result").inner_text())
