"""The wheel page (issue 32): every prize with its exact chance, and the result card — win, no prize, the seeds behind
"Verify", the commitment for the next spin — as the server renders it and as the JSON static/js/wheel.js reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from tests.factories import WheelSegmentFactory
from vip import selectors
from vip.models import WheelSegment, WheelSpin
from vip.views import wait_text

pytestmark = pytest.mark.django_db

# 18:48 UTC: the next spin (00:00 UTC) is 5 h 12 m away.
EVENING = datetime(2026, 12, 7, 18, 48, tzinfo=UTC)


class PrizeRows(HTMLParser):
    """The rows of the prize list (`#prize-ladder`): each row's name, chance and "1 in N" as the page shows them,
    and its classes."""

    FIELDS = {"prize-name": "name", "prize-chance": "chance", "prize-one-in": "one_in"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.field: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "tr" and "prize-row" in classes:
            self.rows.append({"classes": classes, "positions": dict(attrs)["data-positions"], "one_in": ""})
        self.field = next((self.FIELDS[c] for c in classes if c in self.FIELDS), None)

    def handle_endtag(self, tag):
        self.field = None

    def handle_data(self, data):
        if self.field and self.rows:
            self.rows[-1][self.field] = self.rows[-1].get(self.field, "") + data


def _page(client) -> str:
    response = client.get(reverse("vip:wheel"))
    assert response.status_code == 200
    return response.content.decode()


def _only(label: str, reward: str) -> WheelSegment:
    """A wheel of one segment: every spin lands on it."""
    WheelSegment.objects.all().delete()
    return WheelSegmentFactory(position=0, label=label, weight=1, reward_amount=Decimal(reward), color="#FACC15")


# --- prizes and odds -------------------------------------------------------------------------------------------


def test_every_configured_segment_is_on_the_page_with_its_exact_chance(client, verified_player, segments):
    client.force_login(verified_player)
    rows = PrizeRows(_page(client)).rows
    # Biggest prize first, "No prize" last; the 70/25/5 weights written out, none rounded away.
    assert [(r["name"], r["chance"], r["one_in"]) for r in rows] == [
        ("$10", "5 %", "1 in 20"),
        ("$1", "25 %", "1 in 4"),
        ("No prize", "70 %", ""),
    ]
    assert [r["positions"] for r in rows] == ["2", "1", "0"]  # the segments each row stands for
    assert "is-blank" in rows[-1]["classes"]


def test_segments_without_a_prize_are_one_no_prize_row_with_their_chance_together(client, verified_player):
    WheelSegment.objects.all().delete()
    for i, (label, weight, reward) in enumerate([("Try again", 40, "0"), ("$2", 20, "2"), ("Unlucky", 40, "0")]):
        WheelSegmentFactory(position=i, label=label, weight=weight, reward_amount=Decimal(reward))
    client.force_login(verified_player)
    rows = PrizeRows(_page(client)).rows
    shown = [(r["name"], r["chance"], r["positions"]) for r in rows]
    assert shown == [("$2", "20 %", "1"), ("No prize", "80 %", "0 2")]


def test_rare_prizes_keep_two_significant_digits_and_their_one_in_n():
    WheelSegment.objects.all().delete()
    weights = [("Try again", 60000, "0"), ("$0.10", 200, "0.10"), ("$0.50", 60, "0.50"), ("$100", 1, "100")]
    segments = [WheelSegmentFactory(position=i, label=label, weight=w, reward_amount=Decimal(r))
                for i, (label, w, r) in enumerate(weights)]  # fmt: skip
    prizes = selectors.wheel_prizes(segments)
    assert [(p.label, p.percent_text, p.one_in_text) for p in prizes] == [
        ("$100", "0.0017", "1 in 60,261"),
        ("$0.50", "0.10", "1 in 1,004"),
        ("$0.10", "0.33", "1 in 301"),
        ("No prize", "99.57", ""),
    ]
    assert sum(p.weight for p in prizes) == prizes[0].total_weight


def test_each_prize_row_has_its_own_colour_chip(client, verified_player, segments):
    WheelSegment.objects.filter(position=1).update(color="#38BDF8")
    WheelSegment.objects.filter(position=2).update(color="#FB7185")
    client.force_login(verified_player)
    page = _page(client)
    assert 'fill="#38BDF8"' in page
    assert 'fill="#FB7185"' in page
    assert "style=" not in page.split('id="prize-ladder"')[1].split("</table>")[0]  # colours as SVG attributes


# --- before a spin ---------------------------------------------------------------------------------------------


def test_before_a_spin_the_commitment_is_labelled_for_the_spin_to_come(client, verified_player, segments):
    client.force_login(verified_player)
    page = _page(client)
    state = client.get("/api/v1/wheel/").json()
    assert f'Commitment for your next spin: <code id="seed-hash">{state["server_seed_hash"]}</code>' in page
    assert 'id="spin"' in page
    assert '<div id="spin-card" class="wheel-result" hidden>' in page  # the card waits for a spin


# --- the result card as the server renders it ---------------------------------------------------------------


def test_a_no_prize_spin_says_when_the_next_spin_is_and_commits_to_a_new_seed(client, verified_player):
    _only("Try again", "0")
    client.force_login(verified_player)
    with time_machine.travel(EVENING, tick=False):
        response = client.post(reverse("vip:spin"), {"client_seed": "mine"}, follow=True)
        page = response.content.decode()
    spin = WheelSpin.objects.get(user=verified_player)
    headline = page.split('data-state="none">')[1].split("</p>")[0]
    assert headline == (
        'No prize today — next spin in <span data-slot="wait" data-until="2026-12-08T00:00:00+00:00">5 h 12 m</span>'
    )  # not "Try again": the next spin is tomorrow
    assert 'data-state="none"' in page
    assert "The wheel stopped" not in page  # no flash message repeating the card
    # The seeds are in the "Verify" fold; the hash shown as the next commitment is a new one.
    verify = page.split('<details class="wheel-fold wheel-verify" id="spin-verify">')[1].split("</details>")[0]
    for value in (spin.server_seed, spin.server_seed_hash, "mine", f">{spin.nonce}<", f">{spin.roll}<"):
        assert value in verify
    commitment = page.split('Commitment for your next spin: <code id="seed-hash">')[1].split("</code>")[0]
    assert len(commitment) == 64
    assert commitment != spin.server_seed_hash
    assert 'class="prize-row is-blank is-hit"' in page  # the row it landed on


def test_a_winning_spin_shows_the_code_and_how_to_claim_it(client, verified_player):
    _only("$5 bonus", "5")
    client.force_login(verified_player)
    with time_machine.travel(EVENING, tick=False):
        page = client.post(reverse("vip:spin"), follow=True).content.decode()
    spin = WheelSpin.objects.select_related("reward_code").get(user=verified_player)
    assert "You won $5 bonus" in page
    assert f'id="reward-code" data-slot="code">{spin.reward_code.code}</code>' in page
    assert "How to claim:" in page
    assert 'href="/bonus-codes/"' in page
    assert "within 7 days" in page
    assert "Next spin in <span" in page
    assert ">5 h 12 m</span>" in page
    assert "No prize today" not in page


def test_the_wait_reads_in_hours_and_minutes():
    assert wait_text(timedelta(hours=5, minutes=12, seconds=59)) == "5 h 12 m"
    assert wait_text(timedelta(minutes=7)) == "7 m"
    assert wait_text(timedelta(seconds=30)) == "less than a minute"
    assert wait_text(timedelta(seconds=-5)) == "less than a minute"


# --- the JSON static/js/wheel.js fills the card from -----------------------------------------------------------


@pytest.mark.parametrize(("reward", "won"), [("5", True), ("0", False)])
def test_the_spin_json_and_the_state_after_it_carry_the_whole_result_card(verified_api, reward, won):
    segment = _only("Prize" if won else "Try again", reward)
    with time_machine.travel(EVENING, tick=False):
        before = verified_api.get("/api/v1/wheel/").json()
        spin = verified_api.post("/api/v1/wheel/spin/", {"client_seed": "js"}, format="json").json()
        after = verified_api.get("/api/v1/wheel/").json()
    # win or no prize, and the prize row to light up
    assert bool(spin["reward_code"]) is won
    assert Decimal(spin["reward_amount"]) == Decimal(reward)
    assert spin["position"] == segment.position
    assert spin["segment"] == segment.label
    # the "Verify" fold
    assert spin["server_seed_hash"] == before["server_seed_hash"]
    assert {"server_seed", "client_seed", "nonce", "roll"} <= spin.keys()
    # the commitment for the next spin is a new hash, and the countdown's end is the next UTC midnight
    assert after["server_seed_hash"] != spin["server_seed_hash"]
    assert datetime.fromisoformat(after["next_spin_at"]) == datetime(2026, 12, 8, tzinfo=UTC)
    assert after["eligible"] is False


def test_the_wheel_page_needs_no_inline_style_or_script(client, verified_player, segments):
    """CSP-safe without `'unsafe-inline'`: colours are SVG attributes, states are `hidden` and classes."""
    client.force_login(verified_player)
    for page in (_page(client), client.post(reverse("vip:spin"), follow=True).content.decode()):
        main = page.split('<main id="main">')[1].split("</main>")[0]
        assert "style=" not in main
        assert "<script" not in main
        assert "<style" not in main
