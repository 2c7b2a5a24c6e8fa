"""Players in Chromium: claim a code, spin the wheel, and watch a staff reply arrive live in a ticket."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from support.models import SupportTicket
from tests.e2e.conftest import sign_in
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory, WheelSegmentFactory
from tests.realtime.servers import child_env, session_key_for, web_servers
from vip.models import WheelSegment, WheelSpin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_claim_a_code_and_spin_the_wheel(live_server, page, screenshot):
    UserFactory(username="spinner", email_verified=True, verification_status="verified", player=PlayerFactory())
    BonusCodeFactory(code="BROWSER5", amount=Decimal("5"))
    WheelSegment.objects.all().delete()
    WheelSegmentFactory(position=0, label="Five dollars", weight=1, reward_amount=Decimal("5"), color="#D7FF00")
    sign_in(page, live_server.url, "spinner")
    page.goto(f"{live_server.url}/bonus-codes/")
    page.locator('[data-code="BROWSER5"] button[type=submit]').click()
    assert "Claimed BROWSER5" in page.content()
    assert page.locator('[data-code="BROWSER5"] .pill').inner_text() == "✓ Claimed"
    screenshot("bonus-codes")
    page.goto(f"{live_server.url}/wheel/")
    seed_hash = page.locator("#seed-hash").inner_text()
    page.click("#seed-fold summary")
    page.fill("#client-seed", "browser-seed")
    page.click("#spin")
    page.wait_for_selector("#spin-result[data-segment]", timeout=10_000)
    assert page.locator("#spin-result").inner_text() == "You won Five dollars"
    assert page.locator("#reward-code").inner_text().startswith("WHEEL-")
    assert page.locator("#spin-verify [data-slot=client_seed]").text_content() == "browser-seed"
    screenshot("wheel-after-spin")
    page.goto(f"{live_server.url}/wheel/")
    page.click(".wheel-history a.wheel-check")
    assert page.locator("#verify-result").is_visible()
    assert seed_hash in page.content()  # the revealed seed hashes to what was committed before the spin


def test_the_prize_row_lit_up_is_the_one_the_server_drew(live_server, page):
    """The spin lights up the prize row of the segment the server chose, and no other."""
    UserFactory(username="spinner", email_verified=True, verification_status="verified", player=PlayerFactory())
    WheelSegment.objects.all().delete()
    weights = [("Try again", 60, "#64748B"), ("$1", 30, "#38BDF8"), ("$5", 9, "#A3E635"), ("$100", 1, "#FACC15")]
    for i, (label, weight, color) in enumerate(weights):
        WheelSegmentFactory(position=i, label=label, weight=weight, reward_amount=Decimal(i), color=color)
    sign_in(page, live_server.url, "spinner")
    page.goto(f"{live_server.url}/wheel/")
    assert page.locator("#prize-ladder tr.is-hit").count() == 0
    page.click("#spin")
    page.wait_for_selector("#prize-ladder tr.is-hit", timeout=10_000)
    spin = WheelSpin.objects.select_related("segment").get()
    assert page.locator("#prize-ladder tr.is-hit").count() == 1
    lit = page.locator("#prize-ladder tr.is-hit .prize-name").inner_text()
    assert lit == ("No prize" if spin.segment.reward_amount == 0 else spin.segment.label)
    assert page.get_attribute("#spin-result", "data-segment") == spin.segment.label


def test_a_staff_reply_arrives_live_in_the_players_ticket(browser):
    player = UserFactory(username="asker")
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicket.objects.create(user=player, subject="Where is my prize?", description="Race #3")
    with web_servers(1, child_env()) as (port,):
        base = f"http://127.0.0.1:{port}"
        player_page = signed_in_page(browser, base, player)
        player_page.goto(f"{base}/support/{ticket.pk}/")
        player_page.evaluate("window.__noReload = true")
        staff_page = signed_in_page(browser, base, agent)
        staff_page.goto(f"{base}/support/{ticket.pk}/")
        staff_page.fill("#reply-body", "Paid just now, check your Goated balance.")
        staff_page.click("form.reply button")
        player_page.wait_for_selector(".msg.staff", timeout=10_000)
        assert "Paid just now" in player_page.locator(".msg.staff").inner_text()
        assert player_page.evaluate("window.__noReload") is True
        player_page.screenshot(path=str(_artifact("support-live-reply")), full_page=True)


# Injected by the browser (not a page script, so the page's CSP does not apply): the types of the events the
# page's sockets receive, so a test can tell a live event from a snapshot taken after the fact.
RECORD_SOCKET_EVENTS = """
window.__socketEvents = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => window.__socketEvents.push(JSON.parse(e.data).type));
  }
};
"""


def test_a_live_staff_reply_updates_the_status_in_the_players_ticket_header(browser):
    player = UserFactory(username="waiting")
    agent = UserFactory(username="support", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicket.objects.create(user=player, subject="Bonus missing", description="Since Monday")
    # One embedded server (in-memory channel layer): no Redis is needed, and none is emptied.
    with web_servers(1, child_env(redis_url="")) as (port,):
        base = f"http://127.0.0.1:{port}"
        player_page = signed_in_page(browser, base, player)
        refused = []
        player_page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        player_page.add_init_script(RECORD_SOCKET_EVENTS)
        player_page.goto(f"{base}/support/{ticket.pk}/")
        assert player_page.inner_text("#ticket-status") == "Open"
        player_page.wait_for_function("() => window.__socketEvents.includes('snapshot')")
        player_page.evaluate("window.__noReload = true")
        staff_page = signed_in_page(browser, base, agent)
        staff_page.goto(f"{base}/support/{ticket.pk}/")
        staff_page.fill("#reply-body", "Credited, sorry for the wait.")
        staff_page.click("form.reply button")
        player_page.wait_for_function("() => window.__socketEvents.includes('ticket.message')", timeout=10_000)
        player_page.wait_for_function(
            "() => document.getElementById('ticket-status').textContent === 'In progress'", timeout=5_000
        )
        assert player_page.get_attribute("#ticket-status", "data-status") == "in_progress"
        assert player_page.inner_text(".msg.staff .who") == "support · Support team"
        assert player_page.evaluate("window.__noReload") is True
        assert refused == []
        player_page.screenshot(path=str(_artifact("support-live-status")), full_page=True)


def test_a_ticket_closed_by_staff_closes_live_in_the_players_page(browser):
    player = UserFactory(username="asker2")
    agent = UserFactory(username="agent2", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicket.objects.create(user=player, subject="Wrong payout", description="Race #4")
    with web_servers(1, child_env(redis_url="")) as (port,):
        base = f"http://127.0.0.1:{port}"
        player_page = signed_in_page(browser, base, player)
        player_page.add_init_script(RECORD_SOCKET_EVENTS)
        player_page.goto(f"{base}/support/{ticket.pk}/")
        player_page.wait_for_function("() => window.__socketEvents.includes('snapshot')")
        player_page.evaluate("window.__noReload = true")
        assert player_page.locator("form.reply").count() == 1
        player_page.fill("#reply-body", "Half-written answer")
        staff_page = signed_in_page(browser, base, agent)
        staff_page.goto(f"{base}/admin/support/supportticket/")
        staff_page.locator("#result_list tr", has_text="Wrong payout").locator("input.action-select").check()
        staff_page.select_option("select[name=action]", "close")
        staff_page.click("button[name=index]")
        staff_page.wait_for_selector("ul.messagelist")
        player_page.wait_for_function("() => window.__socketEvents.includes('ticket.updated')", timeout=10_000)
        assert player_page.inner_text("#ticket-status") == "Closed"
        assert player_page.locator("form.reply").count() == 0  # no reply box for a closed ticket
        assert "This ticket is closed." in player_page.inner_text("#ticket-closed")
        kept = player_page.get_by_label("Your unsent message")
        assert kept.input_value() == "Half-written answer"  # nothing typed is lost
        assert player_page.evaluate("window.__noReload") is True  # changed in place, not reloaded


def signed_in_page(browser, base: str, user):
    """A browser context signed in as `user` on the server at `base`."""
    from django.conf import settings

    context = browser.new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key_for(user), "url": base}])
    return context.new_page()


def _artifact(name: str):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
