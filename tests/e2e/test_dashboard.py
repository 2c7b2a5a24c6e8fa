"""The operators' dashboard in Chromium (issue 33): full width at 1280 px with the work waiting above the fold, no
sideways scroll and readable labels on a 360 px phone, and axe-core clean (no critical or serious violation) at
both widths."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.test_accessibility import report, violations_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

QUEUES = {
    "payouts-to-approve", "payouts-to-pay", "unassigned-tickets", "pending-verifications", "adjustments-to-review",
    "feed-token",
}  # fmt: skip

# How many lines each label takes against how many words it has: a label broken inside a word ("Last succes|s",
# one letter per line on a phone) takes more lines than it has words.
LABELS_BROKEN = """() => Array.from(document.querySelectorAll(
        '#dashboard .kpi .label, #dashboard .kpi .value, #dashboard .card .what, #dashboard .card .count, '
        + '#feed-status th, #dashboard .figure dt, #dashboard .figure .value'))
    .map((el) => { const range = document.createRange(); range.selectNodeContents(el);
                   const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
                   return [el.innerText.trim(), lines, el.innerText.trim().split(/\\s+/).length,
                           parseFloat(getComputedStyle(el).fontSize)]; })
    .filter(([text, lines, words]) => text && lines > words)"""


def _open_dashboard(page, base: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, base, "admin", admin=True)
    page.goto(f"{base}/admin/")
    page.wait_for_load_state()


def test_the_dashboard_fills_1280px_with_the_work_waiting_above_the_fold(live_server, page, network, demo_site):
    _open_dashboard(page, live_server.url, 1280, 800)
    page.screenshot(path=str(ARTIFACTS / "dashboard-grid-1280.png"), full_page=True)
    box = page.evaluate(
        """() => { const d = document.querySelector('#dashboard').getBoundingClientRect();
                   const cards = Array.from(document.querySelectorAll('#dashboard .card'));
                   return {width: d.width, viewport: document.documentElement.clientWidth,
                           cards: cards.map((c) => c.dataset.queue),
                           bottom: Math.max(...cards.map((c) => c.getBoundingClientRect().bottom)),
                           scroll: document.documentElement.scrollWidth}; }"""
    )
    assert box["width"] >= 0.9 * box["viewport"], box
    assert set(box["cards"]) == QUEUES
    assert box["bottom"] <= 800, box  # every card is in view without scrolling
    assert box["scroll"] <= 1280
    assert page.evaluate(LABELS_BROKEN) == []
    # The app list and recent actions follow on the same page, side by side.
    apps, recent = (page.locator(s).bounding_box() for s in ("#content-main", "#recent-actions-module"))
    assert recent["x"] > apps["x"] + apps["width"] - 1
    found = violations_of(page, network, live_server.url, ["/admin/"], demo_site)
    assert not found, report("dashboard-1280", found)


def test_the_dashboard_on_a_360px_phone_stacks_without_sideways_scroll(live_server, page, network, demo_site):
    _open_dashboard(page, live_server.url, 360, 780)
    page.screenshot(path=str(ARTIFACTS / "dashboard-grid-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('#dashboard .kpi, #dashboard .card, #dashboard .module'))
                 .map((el) => { const r = el.getBoundingClientRect();
                                return [el.dataset.queue || el.id || el.className, r.left, r.right,
                                        el.scrollWidth - el.clientWidth]; })
                 .filter(([_name, left, right, spill]) => left < 0 || right > 360 || spill > 1)"""
    )
    assert boxes == []
    broken = page.evaluate(LABELS_BROKEN)
    assert broken == []
    sizes = page.evaluate(
        "() => Array.from(document.querySelectorAll('#dashboard .kpi .label, #dashboard .card .sub'))"
        ".map((el) => parseFloat(getComputedStyle(el).fontSize))"
    )
    assert min(sizes) >= 11
    found = violations_of(page, network, live_server.url, ["/admin/"], demo_site)
    assert not found, report("dashboard-360", found)
