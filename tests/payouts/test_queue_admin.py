# ruff: noqa: F811  (the fixtures imported from test_payouts are arguments here)
"""The payout queue in admin: opens on Pending, totals per status, one button per next step, each calling the
payout service (four eyes, one audit entry per press)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core.models import AuditEntry
from payouts import services as svc
from payouts.models import Payout
from tests.factories import UserFactory
from tests.payouts.test_payouts import cashier, finished, operator  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:payouts_payout_changelist")


def _ids(race):
    return list(Payout.objects.filter(race=race).order_by("result__rank").values_list("pk", flat=True))


def test_the_queue_opens_on_pending_with_all_one_click_away(finished, client, operator):
    ids = _ids(finished)
    svc.payouts_approve(ids[:1], actor=operator)
    client.force_login(operator)
    page = client.get(QUEUE)
    assert page.status_code == 200
    assert {row.pk for row in page.context["cl"].result_list} == set(ids[1:])  # the pending ones only
    html = page.content.decode()
    assert "<h1>Payouts</h1>" in html
    assert "Select payout to change" not in html
    (status_filter,) = [
        spec for spec in page.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == "status"
    ]
    assert [c["display"] for c in status_filter.choices(page.context["cl"]) if c["selected"]] == ["Pending"]
    everything = client.get(QUEUE, {"status": "all"})
    assert {row.pk for row in everything.context["cl"].result_list} == set(ids)
    assert 'href="?status=all"' in html  # "All" is a link on the default page


def test_the_totals_count_and_sum_each_status_of_the_current_filter(finished, client, operator):
    ids = _ids(finished)
    svc.payouts_approve(ids[:1], actor=operator)  # $250.00 approved, $150.00 + $100.00 pending
    client.force_login(operator)
    assert [(t["status"], t["count"], t["total"]) for t in client.get(QUEUE).context["status_totals"]] == [
        ("pending", 2, "$250.00")
    ]
    totals = client.get(QUEUE, {"status": "all"}).context["status_totals"]
    assert [(t["status"], t["count"], t["total"]) for t in totals] == [
        ("pending", 2, "$250.00"),
        ("approved", 1, "$250.00"),
    ]
    assert totals[1]["url"] == "?status=approved"


def test_each_row_offers_its_next_step_and_the_status_as_a_pill(finished, client, operator):
    ids = _ids(finished)
    svc.payouts_approve(ids[:1], actor=operator)
    client.force_login(operator)
    html = client.get(QUEUE, {"status": "all"}).content.decode()
    assert f'formaction="/admin/payouts/payout/{ids[1]}/approve/"' in html
    assert f'href="/admin/payouts/payout/{ids[0]}/pay/"' in html
    assert f'href="/admin/payouts/payout/{ids[0]}/fail/"' in html
    assert '<span class="pill payout-approved">Approved</span>' in html


def test_approve_mark_paid_and_fail_buttons_call_the_service_with_one_audit_entry_each(
    finished,
    client,
    operator,
    cashier,
):
    first, second, _ = _ids(finished)
    client.force_login(operator)
    queue = f"http://testserver{QUEUE}?status=pending"
    for pk in (first, second):
        before = AuditEntry.objects.count()
        response = client.post(reverse("admin:payouts_payout_approve", args=[pk]), HTTP_REFERER=queue)
        assert (response.status_code, response["Location"]) == (302, queue)  # back to the filtered queue
        assert AuditEntry.objects.count() == before + 1
        assert AuditEntry.objects.latest("pk").action == "payout.approve"
    assert client.get(reverse("admin:payouts_payout_approve", args=[first])).status_code == 405  # a GET changes nothing
    # Four eyes: the approver's Mark paid is refused on the form, audited, and changes nothing.
    pay = reverse("admin:payouts_payout_pay", args=[first])
    assert 'name="reference"' in client.get(pay).content.decode()
    refused = client.post(pay, {"reference": "TIP-1", "next": QUEUE}).content.decode()
    assert "another operator must pay it (four eyes)" in refused
    assert Payout.objects.get(pk=first).status == "approved"
    assert AuditEntry.objects.latest("pk").action == "payout.pay.refused"
    client.force_login(cashier)
    before = AuditEntry.objects.count()
    assert client.post(pay, {"reference": "TIP-1", "next": QUEUE})["Location"] == QUEUE
    assert (Payout.objects.get(pk=first).status, Payout.objects.get(pk=first).reference) == ("paid", "TIP-1")
    assert list(AuditEntry.objects.filter(pk__gt=0).order_by("pk").values_list("action", flat=True))[before:] == [
        "payout.pay"
    ]
    fail = reverse("admin:payouts_payout_fail", args=[second])
    assert "This field is required" in client.post(fail, {"note": ""}).content.decode()  # bad input: the form again
    before = AuditEntry.objects.count()
    client.post(fail, {"note": "Wrong username", "next": "https://evil.example/"})
    assert Payout.objects.get(pk=second).status == "failed"
    assert AuditEntry.objects.count() == before + 1


def test_the_change_page_has_the_step_buttons_and_a_view_only_user_has_none(finished, client, operator):
    first = _ids(finished)[0]
    client.force_login(operator)
    page = client.get(reverse("admin:payouts_payout_change", args=[first])).content.decode()
    assert 'id="payout-step"' in page
    assert f'formaction="/admin/payouts/payout/{first}/approve/"' in page
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_payout"))
    client.force_login(viewer)
    assert "/approve/" not in client.get(QUEUE).content.decode()
    assert client.post(reverse("admin:payouts_payout_approve", args=[first])).status_code == 403
    assert Payout.objects.get(pk=first).status == "pending"


def test_an_action_on_ticked_rows_is_not_narrowed_by_the_default_filter(finished, client, operator, cashier):
    ids = _ids(finished)
    svc.payouts_approve(ids, actor=operator)
    client.force_login(cashier)
    client.post(QUEUE, {"action": "mark_paid", "_selected_action": ids[:1], "apply": "1", "reference": "T-1"})
    assert Payout.objects.get(pk=ids[0]).status == "paid"
    # "Select all" from the default page acts on what the page counted: the pending ones (none here).
    client.post(QUEUE, {"action": "retry", "select_across": "1", "_selected_action": ids[:1]})
    assert Payout.objects.filter(status="approved").count() == 2
