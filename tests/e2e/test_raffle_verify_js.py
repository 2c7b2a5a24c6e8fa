"""The raffle verify page's script (static/js/raffle-verify.js) in Chromium: the same hashes and the same draws as
giveaways/draw.py on the random raffles of tests/giveaways/test_draw.py, and the checks it renders (a tampered
entry list shows). No database and no server: the script runs on a blank page, or on a plain-HTTP origin under
the site's CSP (where crypto.subtle does not exist)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from giveaways import draw
from giveaways.draw import Entry
from tests.giveaways.test_draw import HMAC_VECTOR, SHA256_VECTORS, random_raffles, seed_for

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "raffle-verify.js"


@pytest.fixture
def verify(page):
    """A blank page with the verify script loaded; returns the page."""
    page.goto("about:blank")
    page.add_script_tag(path=str(SCRIPT))
    assert page.evaluate("typeof window.RaffleVerify.draw") == "function"
    return page


def test_hash_vectors(verify):
    for message, expected in SHA256_VECTORS:
        assert verify.evaluate("m => RaffleVerify.sha256Hex(m)", message) == expected
    key, message, expected = HMAC_VECTOR
    assert verify.evaluate("([k, m]) => RaffleVerify.hmacSha256Hex(k, m)", [key, message]) == expected


def test_hash_padding_boundaries_and_long_keys(verify):
    """Every message length around SHA-256's block and padding edges, UTF-8 text, and an HMAC key longer than
    the 64-byte block (hashed first)."""
    messages = ["a" * n for n in range(131)] + ["é" * 33, "🐐" * 17, "猫山🐐\n" * 9]
    got = verify.evaluate("ms => ms.map(m => RaffleVerify.sha256Hex(m))", messages)
    assert got == [hashlib.sha256(m.encode("utf-8")).hexdigest() for m in messages]
    pairs = [("k" * n, f"message {n}") for n in (0, 1, 63, 64, 65, 200)] + [(seed_for(1), "digest:1")]
    got = verify.evaluate("ps => ps.map(([k, m]) => RaffleVerify.hmacSha256Hex(k, m))", pairs)
    assert got == [hmac.new(k.encode(), m.encode(), hashlib.sha256).hexdigest() for k, m in pairs]


def test_the_script_draws_what_the_server_draws(verify):
    raffles = random_raffles()
    payload = [
        [r["seed"], [{"uid": e.uid, "tickets": e.tickets} for e in r["entries"]], r["winners_count"]] for r in raffles
    ]
    results = verify.evaluate("rs => rs.map(([s, es, n]) => RaffleVerify.draw(s, es, n))", payload)
    for raffle, result in zip(raffles, results, strict=True):
        seed, entries, count = raffle["seed"], raffle["entries"], raffle["winners_count"]
        winners = draw.draw_winners(seed, entries, count)
        assert result["seedHash"] == draw.seed_hash(seed)
        assert result["digest"] == draw.entries_digest(entries)
        assert [w["uid"] for w in result["winners"]] == [w.uid for w in winners]
        assert [w["tickets"] for w in result["winners"]] == [w.tickets for w in winners]
        assert [s["winner"]["uid"] for s in result["steps"]] == [w.uid for w in winners]
        assert [s["k"] for s in result["steps"]] == list(range(1, len(winners) + 1))
        for step in result["steps"]:
            number = draw.draw_number(seed, result["digest"], step["k"])
            assert step["hmac"] == f"{number:064x}"
            assert step["number"] == str(number)
            assert step["pick"] == str(number % step["total"])


# --- The verify page ---

ENTRIES = [Entry("Goat", 10), Entry("🐐", 4), Entry("<b>bold</b>", 3), Entry("\ue000", 2), Entry("zed", 1)]


def _data(entries=ENTRIES, *, seed: str | None = None, winners_count: int = len(ENTRIES)) -> dict:
    """The data island the raffle page publishes (seed None: not drawn yet)."""
    seed = seed or seed_for(42)
    winners = draw.draw_winners(seed, entries, winners_count)
    return {
        "server_seed": seed,
        "server_seed_hash": draw.seed_hash(seed),
        "entries_digest": draw.entries_digest(entries),
        "winners_count": winners_count,
        "entries": [{"uid": e.uid, "tickets": e.tickets} for e in draw.entries_ordered(entries)],
        "winners": [{"position": i, "uid": w.uid} for i, w in enumerate(winners, start=1)],
    }


def _html(data: dict, script_tag: str = "") -> str:
    island = json.dumps(data).replace("<", "\\u003c")  # what json_script does: no "</script>" inside
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{script_tag}</head><body>"
        f"<script type='application/json' id='raffle-verify-data'>{island}</script>"
        "<div id='raffle-verify-result'></div></body></html>"
    )


def _render(page, data: dict):
    page.set_content(_html(data))
    page.add_script_tag(path=str(SCRIPT))
    page.wait_for_selector("#raffle-verify-result[data-state]")
    return page.locator("#raffle-verify-result")


def _checks(result) -> list[str]:
    return result.locator("li.check").all_inner_texts()


def test_the_page_shows_three_passing_checks_and_the_steps(page):
    data = _data()
    result = _render(page, data)
    checks = _checks(result)
    assert len(checks) == 3
    assert all(text.startswith("✓") for text in checks), checks
    assert "seed matches" in checks[0]
    assert data["server_seed_hash"] in checks[0]
    assert "digest" in checks[1]
    assert data["entries_digest"] in checks[1]
    assert "winners match" in checks[2]
    assert result.get_attribute("data-state") == "ok"

    rows = result.locator("table.verify-steps tbody tr")
    assert rows.count() == len(ENTRIES)  # every entry wins a position: every uid is on the page
    remaining = draw.entries_ordered(ENTRIES)
    for k, winner in enumerate(data["winners"], start=1):
        cells = rows.nth(k - 1).locator("td").all_inner_texts()
        number = draw.draw_number(data["server_seed"], data["entries_digest"], k)
        total = sum(e.tickets for e in remaining)
        assert cells[0] == str(k)
        assert cells[1] == f"{number:064x}"
        assert cells[2] == f"{number} mod {total}"
        assert cells[3] == str(number % total)
        assert cells[4].startswith(winner["uid"] + " (")
        remaining = [e for e in remaining if e.uid != winner["uid"]]
    # Uids are text, never markup.
    assert result.locator("b").count() == 0
    assert "<b>bold</b>" in result.inner_text()


def test_a_tampered_entry_list_fails_the_digest_check(page):
    data = _data()
    data["entries"][0]["tickets"] += 1  # one ticket more than what was hashed and drawn
    result = _render(page, data)
    checks = _checks(result)
    assert checks[0].startswith("✓")
    assert checks[1].startswith("✗")
    assert "NOT match the published digest" in checks[1]
    assert result.get_attribute("data-state") == "mismatch"


def test_a_wrong_seed_or_winner_fails_its_check(page):
    data = _data()
    data["winners"][0], data["winners"][1] = data["winners"][1], data["winners"][0]
    data["winners"][0]["position"], data["winners"][1]["position"] = 1, 2
    checks = _checks(_render(page, data))
    assert [c[0] for c in checks] == ["✓", "✓", "✗"]
    data = _data()
    data["server_seed_hash"] = draw.seed_hash(seed_for(43))
    checks = _checks(_render(page, data))
    assert [c[0] for c in checks] == ["✗", "✓", "✓"]


def test_before_the_draw_the_page_says_when_the_check_is_possible(page):
    data = {**_data(), "server_seed": None, "entries_digest": None, "winners": []}
    result = _render(page, data)
    assert result.get_attribute("data-state") == "pending"
    assert "after the draw" in result.inner_text()
    assert result.locator("table").count() == 0


def test_the_script_runs_on_a_plain_http_origin_under_the_sites_csp(page):
    """Served like the site serves it: a 'self'-only script policy, the file from /static/, loaded in <head>
    (so it waits for DOMContentLoaded), on http:// where crypto.subtle is missing."""
    origin = "http://raffles.test"
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda err: violations.append(str(err)))
    html = _html(_data(), f"<script src='{origin}/static/js/raffle-verify.js'></script>")
    policy = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'"

    def serve(route):
        if route.request.url.endswith("/raffle-verify.js"):
            route.fulfill(path=str(SCRIPT), content_type="text/javascript", headers={"Content-Security-Policy": policy})
        else:
            route.fulfill(
                body=html, content_type="text/html; charset=utf-8", headers={"Content-Security-Policy": policy}
            )

    page.route(f"{origin}/**", serve)
    page.goto(f"{origin}/raffles/1/verify/")
    page.wait_for_selector("#raffle-verify-result[data-state]")
    assert page.evaluate("window.isSecureContext") is False
    assert [c[0] for c in _checks(page.locator("#raffle-verify-result"))] == ["✓", "✓", "✓"]
    assert violations == []
