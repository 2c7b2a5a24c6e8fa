"""The support inbox in admin: opens on open + unassigned tickets, oldest wait first; the ticket page is a
read-only thread with one form field (the reply box) and buttons that each write one audit entry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from support.models import CannedReply, SupportTicket, TicketMessage
from tests.factories import PlayerFactory, SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db
INBOX = reverse("admin:support_supportticket_changelist")


@pytest.fixture
def agent():
    user = UserFactory(username="agent", is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


def _ticket(hours_ago: float, **kw) -> SupportTicket:
    return SupportTicketFactory(created_at=timezone.now() - timedelta(hours=hours_ago), **kw)


def test_the_inbox_opens_on_open_unassigned_tickets_the_longest_wait_first(client, agent):
    recent = _ticket(1, subject="Recent")
    old_but_asked_again = _ticket(9, subject="Asked again")
    TicketMessage.objects.create(ticket=old_but_asked_again, author=old_but_asked_again.user, body="Any news?",
                                 created_at=timezone.now() - timedelta(minutes=30))  # fmt: skip
    oldest = _ticket(5, subject="Oldest")
    going = _ticket(3, subject="Going", status=SupportTicket.Status.IN_PROGRESS)
    _ticket(8, subject="Taken", assigned_to=agent)
    _ticket(10, subject="Done", status=SupportTicket.Status.CLOSED)
    client.force_login(agent)
    page = client.get(INBOX)
    assert page.status_code == 200
    assert [t.subject for t in page.context["cl"].result_list] == ["Oldest", "Going", "Recent", "Asked again"]
    assert [t.pk for t in page.context["cl"].result_list] == [oldest.pk, going.pk, recent.pk, old_but_asked_again.pk]
    html = page.content.decode()
    assert "<h1>Support inbox</h1>" in html
    assert "5\xa0hours" in html  # the waiting time of the oldest
    mine = client.get(INBOX, {"assigned": "me"}).context["cl"].result_list
    assert [t.subject for t in mine] == ["Taken"]
    everything = client.get(INBOX, {"assigned": "all", "status": "all"}).context["cl"].result_list
    assert len(everything) == 6


def test_a_ticket_answered_last_by_staff_says_so_instead_of_a_wait(client, agent):
    ticket = _ticket(4, subject="Answered", assigned_to=agent, status=SupportTicket.Status.IN_PROGRESS)
    TicketMessage.objects.create(ticket=ticket, author=agent, body="Done.", is_staff_reply=True)
    client.force_login(agent)
    assert "answered 0\xa0minutes ago" in client.get(INBOX, {"assigned": "me"}).content.decode()


def test_the_ticket_page_has_no_form_field_with_the_players_words(client, agent):
    player = PlayerFactory(name="GoatKing")
    owner = UserFactory(username="owner", player=player)
    ticket = _ticket(2, user=owner, subject="Lost code", description="My code ABC never worked")
    _ticket(50, user=owner, subject="Earlier question", status=SupportTicket.Status.CLOSED)
    TicketMessage.objects.create(ticket=ticket, author=owner, body="Still nothing")
    CannedReply.objects.create(title="Payout timing", body="Payouts run <every> Monday.")
    client.force_login(agent)
    html = client.get(reverse("admin:support_supportticket_change", args=[ticket.pk])).content.decode()
    fields = set(re.findall(r'<(?:input|textarea|select|button)[^>]*\bname="([^"]+)"', html))
    assert fields == {"csrfmiddlewaretoken", "body", "_reply", "_reply_close", "_assign_me"}
    assert "My code ABC never worked" in html  # shown, as text
    assert not re.search(r"<textarea[^>]*>[^<]*My code ABC", html)
    assert '<span class="pill staff-label">' not in html  # no staff reply yet; the player's messages unlabelled
    assert "✖" not in html
    assert "GoatKing" in html  # the linked player, beside the thread
    assert "Earlier question" in html  # past tickets
    assert 'data-body="Payouts run &lt;every&gt; Monday."' in html
    assert "admin-canned-replies.js" in html
    assert "<script>" not in html.split("<body")[1]  # no inline script


def test_assign_reply_and_reply_and_close_each_write_one_audit_entry(client, agent):
    ticket = _ticket(2, subject="Payout?")
    page = reverse("admin:support_supportticket_change", args=[ticket.pk])
    client.force_login(agent)
    mine = {"assigned_to": agent.pk}
    steps = [({"_assign_me": "1", "body": ""}, "ticket.update", {"status": "open", **mine}),
             ({"_reply": "1", "body": "On it."}, "ticket.reply", {"status": "in_progress", **mine}),
             ({"_reply_close": "1", "body": "Paid."}, "ticket.reply", {"status": "closed", **mine})]  # fmt: skip
    for data, action, after in steps:
        before = AuditEntry.objects.count()
        response = client.post(page, data)
        assert response.status_code == 302
        assert AuditEntry.objects.count() == before + 1
        entry = AuditEntry.objects.latest("pk")
        assert (entry.action, entry.after, entry.source, entry.actor) == (action, after, "admin", agent)
    assert response["Location"] == INBOX  # closed: back to the inbox for the next one
    assert list(TicketMessage.objects.filter(ticket=ticket).values_list("body", flat=True)) == ["On it.", "Paid."]
    # A closed ticket takes no reply: refused on the page, nothing written.
    before = AuditEntry.objects.count()
    refused = client.post(page, {"_reply": "1", "body": "One more"})
    assert refused.status_code == 200
    assert "This ticket is closed" in refused.content.decode()
    assert AuditEntry.objects.count() == before


def test_bad_input_on_the_ticket_page_writes_nothing(client, agent):
    ticket = _ticket(2)
    page = reverse("admin:support_supportticket_change", args=[ticket.pk])
    client.force_login(agent)
    blank = client.post(page, {"_reply": "1", "body": "   "})
    assert blank.status_code == 200
    assert "Write a reply first." in blank.content.decode()
    too_long = client.post(page, {"_reply_close": "1", "body": "x" * 5001})
    assert too_long.status_code == 200
    assert not AuditEntry.objects.exists()
    assert not TicketMessage.objects.exists()
    assert (
        client.post(reverse("admin:support_supportticket_change", args=[999_999]), {"_reply": "1"}).status_code == 302
    )


def test_a_view_only_user_reads_the_thread_but_has_no_buttons(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_supportticket"))
    ticket = _ticket(2, description="Hello there")
    client.force_login(viewer)
    page = reverse("admin:support_supportticket_change", args=[ticket.pk])
    html = client.get(page).content.decode()
    assert "Hello there" in html
    assert 'name="_reply"' not in html
    assert client.post(page, {"_reply": "1", "body": "Hi"}).status_code == 403
    assert not TicketMessage.objects.exists()


def test_operators_keep_canned_replies_and_support_only_reads_them():
    from core.roles import OPERATORS, ROLES, SUPPORT

    assert ROLES[OPERATORS]["support.cannedreply"] == ("view", "add", "change", "delete")
    assert ROLES[SUPPORT]["support.cannedreply"] == ("view",)
