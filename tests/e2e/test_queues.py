"""The two work queues in Chromium: the payout list fits 1280 px beside its filters, a support agent answers,
takes and closes a ticket with the ticket page's buttons only (one audit entry each), and both queues and a ticket
pass axe-core at 1280 and 360 px without sideways scrolling (lists become cards on a phone)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core.models import AuditEntry
from support.models import CannedReply, SupportTicket
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS, FAILING
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 800}}


def test_a_support_agent_answers_takes_and_closes_a_ticket_with_the_buttons(live_server, page):
    agent = UserFactory(username="helper", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    CannedReply.objects.create(title="Payout timing", body="Payouts are paid every Monday.")
    ticket = SupportTicket.objects.create(user=UserFactory(), subject="Where is my prize?", description="Race #2")
    page.set_viewport_size(VIEWPORTS["desktop"])
    sign_in(page, live_server.url, "helper", admin=True)
    page.goto(f"{live_server.url}/admin/support/supportticket/")
    page.get_by_role("link", name="Where is my prize?").click()
    assert page.locator(".msg-player .msg-body").inner_text() == "Race #2"

    def step(button: str) -> AuditEntry:
        before = AuditEntry.objects.count()
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
        assert AuditEntry.objects.count() == before + 1
        return AuditEntry.objects.latest("pk")

    page.select_option("#canned-reply", label="Payout timing")  # inserted in the reply box by the script
    assert page.input_value("#id_body") == "Payouts are paid every Monday."
    assert step("Reply").after == {"status": "in_progress", "assigned_to": agent.pk}
    assert page.locator(".msg-staff .staff-label").inner_text() == "Staff"
    colleague = UserFactory(username="colleague", is_staff=True)
    colleague.groups.add(Group.objects.get(name="Support"))
    SupportTicket.objects.filter(pk=ticket.pk).update(assigned_to=colleague)  # a colleague took it meanwhile
    page.reload()
    assert step("Assign to me").after == {"status": "in_progress", "assigned_to": agent.pk}
    page.fill("#id_body", "Sent today, reference TIP-9.")
    assert step("Reply & close").after == {"status": "closed", "assigned_to": agent.pk}
    assert page.url.endswith("/admin/support/supportticket/")  # back to the inbox
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert [m.body for m in ticket.messages.order_by("pk")] == ["Payouts are paid every Monday.",
                                                                "Sent today, reference TIP-9."]  # fmt: skip


def test_every_payout_column_is_left_of_the_filters_and_inside_1280px(live_server, page, demo_site):
    page.set_viewport_size(VIEWPORTS["desktop"])
    sign_in(page, live_server.url, "admin", admin=True)
    for query in ("", "?status=all"):
        page.goto(f"{live_server.url}/admin/payouts/payout/{query}")
        page.screenshot(path=str(ARTIFACTS / f"payouts-1280{query.replace('?', '-').replace('=', '-')}.png"))
        boxes = page.evaluate(
            """() => { const side = document.querySelector('#changelist-filter').getBoundingClientRect();
                       return {side: side.left, cols: Array.from(document.querySelectorAll('#result_list th'))
                         .map((th) => [th.innerText.trim(), th.getBoundingClientRect().right])}; }"""
        )
        assert boxes["cols"], "no columns"
        assert [c for c in boxes["cols"] if c[1] > boxes["side"] or c[1] > 1280] == [], boxes
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_queues_and_a_ticket_pass_axe_and_never_scroll_sideways(live_server, page, network, demo_site, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, live_server.url, "admin", admin=True)
    found = []
    for path in ("/admin/payouts/payout/", "/admin/payouts/payout/?status=all", "/admin/support/supportticket/",
                 "/admin/support/supportticket/?status=all&assigned=all", demo_site["admin_ticket"]):  # fmt: skip
        page.goto(f"{live_server.url}{path}")
        network.settle()
        page.screenshot(path=str(ARTIFACTS / f"queue-{viewport}-{path.strip('/').replace('/', '-')}.png"))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > VIEWPORTS[viewport]["width"]:
            found.append(f"{path}: {width} px wide")
        for violation in AXE.run(page, options=AXE_OPTIONS).response["violations"]:
            if violation["impact"] in FAILING:
                found.append(f"{path} [{violation['impact']}] {violation['id']}: {violation['nodes'][0]['target']}")
    assert found == [], "\n".join(found)
