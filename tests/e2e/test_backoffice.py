"""Operators and support staff in Django admin, in Chromium: the daily work, each step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import VerificationRequest
from core.models import AuditEntry
from races.models import WagerRace
from support.models import SupportTicket
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import PlayerFactory, UserFactory, VerificationRequestFactory, WagerRaceFactory
from vip.models import BonusCode

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_action(page, action: str, *labels: str, download: bool = False) -> None:
    for label in labels:
        page.locator("#result_list tr", has_text=label).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    if not download:
        page.wait_for_selector("ul.messagelist")


def test_an_operator_runs_the_back_office(live_server, page, screenshot):
    operator = UserFactory(username="op", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operators"))
    base = live_server.url
    sign_in(page, base, "op", admin=True)
    assert page.locator("#dashboard").is_visible()
    screenshot("backoffice-dashboard")

    # Create a race with a prize table.
    page.goto(f"{base}/admin/races/wagerrace/add/")
    page.fill("#id_title", "Browser Weekend Race")
    page.select_option("#id_type", "weekend")
    start, end = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=3)
    page.fill("#id_start_date_0", start.strftime("%Y-%m-%d"))
    page.fill("#id_start_date_1", "00:00:00")
    page.fill("#id_end_date_0", end.strftime("%Y-%m-%d"))
    page.fill("#id_end_date_1", "00:00:00")
    page.fill("#id_prize_pool", "300")
    page.fill("#id_min_wager", "0")
    page.fill("input[name=prize_distribution__pct_1]", "60")
    page.fill("input[name=prize_distribution__pct_2]", "40")
    # The editor shows each rank's prize and the totals while the operator types, as the server computes them.
    assert page.locator(".prize-table-editor tbody tr").nth(0).locator(".prize-money").inner_text() == "$180.00"
    assert page.locator(".prize-total-money").inner_text() == "$300.00"
    assert page.locator(".prize-total-pct").inner_text() == "100 %"
    page.locator(".prize-table-editor").screenshot(path=str(ARTIFACTS / "backoffice-prize-editor.png"))
    page.fill("input[name=prize_distribution__pct_3]", "5")
    assert "over 100 %" in page.locator(".prize-total-pct").inner_text()
    page.fill("input[name=prize_distribution__pct_3]", "")
    page.click(".prize-add-row")
    assert page.locator(".prize-table-editor tbody tr").count() == 6
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist")
    created = WagerRace.objects.get(title="Browser Weekend Race")
    assert created.prize_distribution == {"1": 60, "2": 40}

    # Finalize a live race.
    live = WagerRaceFactory(title="Live Monthly", status="live", start_date=timezone.now() - timedelta(days=5))
    page.goto(f"{base}/admin/races/wagerrace/")
    run_action(page, "finalize_now", "Live Monthly")
    assert "Finalized: 1 race(s)." in page.content()
    live.refresh_from_db()
    assert live.status == "completed"

    # Export standings as CSV.
    page.goto(f"{base}/admin/races/wagerrace/")
    with page.expect_download() as download:
        run_action(page, "export_csv", "Live Monthly", download=True)
    assert download.value.suggested_filename.endswith(".csv")

    # Approve verification requests in bulk.
    requests = [VerificationRequestFactory(goated_name=f"Claim{i}", player=PlayerFactory(), user=UserFactory())
                for i in range(2)]  # fmt: skip
    page.goto(f"{base}/admin/accounts/verificationrequest/")
    run_action(page, "approve", "Claim0", "Claim1")
    assert "Approved: 2 request(s)." in page.content()
    assert set(
        VerificationRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("status", flat=True)
    ) == {"approved"}

    # Generate bonus codes.
    page.goto(f"{base}/admin/vip/bonuscode/")
    page.click("#generate-codes")
    page.fill("#id_prefix", "BROWSER")
    page.fill("#id_count", "12")
    page.fill("#id_amount", "5")
    page.click("#generate-submit")
    page.wait_for_selector("ul.messagelist")
    assert "Generated 12 codes" in page.content()
    assert BonusCode.objects.filter(code__startswith="BROWSER-").count() == 12
    screenshot("backoffice-codes")

    actions = set(AuditEntry.objects.filter(actor=operator).values_list("action", flat=True))
    assert {"race.finalize", "race.export_csv", "verification.approve", "bonus_code.generate"} <= actions
    added = AuditEntry.objects.get(actor=operator, target_type="races.wagerrace", target_id=str(created.pk))
    assert added.after["title"] == "Browser Weekend Race"


def test_support_staff_reply_to_tickets_and_are_refused_on_races(live_server, page):
    agent = UserFactory(username="helper", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicket.objects.create(user=UserFactory(), subject="Lost code", description="Help")
    sign_in(page, live_server.url, "helper", admin=True)
    page.goto(f"{live_server.url}/support/{ticket.pk}/")
    page.fill("#reply-body", "Here is a new one.")
    page.click("form.reply button")
    assert page.locator(".msg.staff").inner_text().endswith("Here is a new one.")
    response = page.goto(f"{live_server.url}/admin/races/wagerrace/")
    assert response.status == 403


@pytest.mark.parametrize("changelist", ["accounts/verificationrequest", "vip/bonuscode", "races/wagerrace"])
def test_changelists_fit_a_1280px_screen(live_server, page, demo_site, changelist):
    """Status and dates in view: the list is no wider than the screen, and its last column ends inside it."""
    VerificationRequestFactory.create_batch(3)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "admin", admin=True)
    page.goto(f"{live_server.url}/admin/{changelist}/")
    page.screenshot(path=str(ARTIFACTS / f"changelist-1280-{changelist.replace('/', '-')}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Django wraps the table in a box that scrolls sideways: the whole table must fit in it, not scroll.
    box = page.evaluate(
        """() => { const box = document.querySelector('#changelist .results');
                   const right = box.getBoundingClientRect().right;
                   return {scroll: box.scrollWidth, width: box.clientWidth, right: right}; }"""
    )
    assert box["scroll"] <= box["width"], box
    assert box["right"] <= 1280, box


def test_the_dashboard_fits_1280px_and_names_the_last_sync_outcome(live_server, page, demo_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, "admin", admin=True)
    page.goto(f"{live_server.url}/admin/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Every dashboard box holds its content (the live races row used to run out of its box).
    page.screenshot(path=str(ARTIFACTS / "dashboard-1280.png"), full_page=True)
    spill = page.evaluate(
        """() => Array.from(document.querySelectorAll('#dashboard .module, #dashboard .kpi'))
                 .filter((box) => box.scrollWidth > box.clientWidth + 1)
                 .map((box) => [box.id || box.className, box.querySelector('h2') && box.querySelector('h2').innerText,
                                box.scrollWidth, box.clientWidth])"""
    )
    assert spill == []
    assert page.locator("#dashboard .kpi .value.sync-info").inner_text() == "Succeeded"
