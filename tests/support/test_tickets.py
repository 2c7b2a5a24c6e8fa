"""Support tickets: owners only (404 for others), staff replies marked by the server, pages, rate limits."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.models import AuditEntry
from notifications.models import Notification
from support.models import SupportTicket, TicketMessage
from support.services import ticket_update
from tests.factories import SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/support/tickets/"


@pytest.fixture
def support_agent():
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    return agent


def test_a_player_opens_a_ticket_and_sees_only_their_own(player_api, other_user):
    SupportTicketFactory(user=other_user, subject="Not yours")
    created = player_api.post(
        TICKETS, {"subject": "Bonus missing", "description": "Where is it?", "priority": "high"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["status"] == "open"
    listed = player_api.get(TICKETS).json()
    assert [t["subject"] for t in listed["results"]] == ["Bonus missing"]


def test_another_players_ticket_is_a_404_for_read_and_reply(player_api, other_user):
    theirs = SupportTicketFactory(user=other_user)
    assert player_api.get(f"{TICKETS}{theirs.pk}/").status_code == 404
    reply = player_api.post(f"{TICKETS}{theirs.pk}/messages/", {"body": "let me in"}, format="json")
    assert reply.status_code == 404
    assert player_api.get(f"{TICKETS}999999/").json()["error"]["code"] == "not_found"  # same answer as missing
    assert not TicketMessage.objects.exists()


def test_a_client_cannot_mark_its_message_as_a_staff_reply(player_api, player_user):
    ticket = SupportTicketFactory(user=player_user)
    response = player_api.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "hi", "is_staff_reply": True}, format="json")
    assert response.status_code == 201
    assert response.json()["is_staff_reply"] is False
    assert TicketMessage.objects.get().is_staff_reply is False


def test_staff_reply_is_marked_by_the_server_and_notifies_the_owner(api_client, support_agent, player_user):
    ticket = SupportTicketFactory(user=player_user)
    api_client.force_authenticate(support_agent)
    assert len(api_client.get(TICKETS).json()["results"]) == 1  # staff see every ticket
    response = api_client.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "On it!"}, format="json")
    assert response.json()["is_staff_reply"] is True
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.IN_PROGRESS
    assert Notification.objects.get(user=player_user).title.startswith("Support replied")


def test_bad_input_and_anonymous(player_api, player_user):
    from rest_framework.test import APIClient

    assert APIClient().get(TICKETS).status_code == 401
    bad = player_api.post(TICKETS, {"subject": "", "description": "x", "priority": "urgent"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) >= {"subject", "priority"}
    ticket = SupportTicketFactory(user=player_user)
    assert player_api.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "   "}, format="json").status_code == 400
    SupportTicket.objects.filter(pk=ticket.pk).update(status="closed")
    closed = player_api.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "again"}, format="json")
    assert closed.status_code == 409


def test_ticket_creation_is_rate_limited(player_api, client, player_user):
    for i in range(5):
        player_api.post(TICKETS, {"subject": f"s{i}", "description": "d"}, format="json")
    assert player_api.post(TICKETS, {"subject": "s", "description": "d"}, format="json").status_code == 429
    client.force_login(player_user)
    assert client.post("/support/new/", {"subject": "s", "description": "d"}).status_code == 429


def test_support_pages(client, player_user, other_user):
    client.force_login(player_user)
    assert "No tickets yet" in client.get("/support/").content.decode()
    response = client.post("/support/new/", {"subject": "Payout", "description": "When?", "priority": "low"})
    ticket = SupportTicket.objects.get(user=player_user)
    assert response["Location"] == f"/support/{ticket.pk}/"
    client.post(f"/support/{ticket.pk}/", {"body": "Any news?"})
    page = client.get(f"/support/{ticket.pk}/").content.decode()
    assert "Any news?" in page
    assert f'data-ticket="{ticket.pk}"' in page
    theirs = SupportTicketFactory(user=other_user)
    assert client.get(f"/support/{theirs.pk}/").status_code == 404
    assert client.post("/support/new/", {"subject": "", "description": ""}).status_code == 400


def test_a_ticket_page_runs_the_same_queries_for_2_and_40_messages(client, player_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from support.services import ticket_message_post

    agent = UserFactory(username="agent", display_name="Maya", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicketFactory(user=player_user)
    client.force_login(player_user)

    def count() -> tuple[int, str]:
        client.get(f"/support/{ticket.pk}/")  # warm the caches (switches, bell)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(f"/support/{ticket.pk}/").content.decode()
        return len(ctx), page

    ticket_message_post(ticket, player_user, "First")
    ticket_message_post(ticket, agent, "Second")
    few, _ = count()
    for i in range(19):
        ticket_message_post(ticket, player_user, f"More {i}")
        ticket_message_post(ticket, agent, f"Answer {i}")
    many, page = count()
    assert many == few
    assert page.count('<p class="who">Maya · Support team</p>') == 20
    assert page.count(f'<p class="who">{player_user.username}</p>') == 21  # 20 messages and the description


def test_staff_assign_and_close_tickets_with_an_audit_trail(support_agent, player_user):
    ticket = SupportTicketFactory(user=player_user)
    ticket_update(ticket, actor=support_agent, status="closed", assign_to=support_agent)
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.closed_at is not None
    assert ticket.assigned_to == support_agent
    assert AuditEntry.objects.get(action="ticket.update").actor == support_agent
    with pytest.raises(Exception, match="Only support staff"):
        ticket_update(ticket, actor=player_user, status="open")


def test_support_inbox_in_admin_filters_replies_from_the_ticket_page_and_closes(client, support_agent, player_user):
    mine = SupportTicketFactory(user=player_user, subject="Mine", assigned_to=support_agent)
    SupportTicketFactory(user=player_user, subject="Nobody's")
    client.force_login(support_agent)
    inbox = "/admin/support/supportticket/"
    unassigned = client.get(inbox, {"assigned": "none"}).content.decode()
    assert "Nobody&#x27;s" in unassigned
    assert ">Mine</a></td>" not in unassigned
    assert ">Mine</a></td>" in client.get(inbox, {"assigned": "me"}).content.decode()
    change = f"{inbox}{mine.pk}/change/"
    assert client.post(change, {"body": "Answered from the inbox.", "_reply": "1"}).status_code == 302
    reply = TicketMessage.objects.get(ticket=mine)
    assert reply.is_staff_reply is True
    assert reply.author == support_agent
    client.post(inbox, {"action": "close", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "closed"


@pytest.mark.django_db(transaction=True)
def test_a_staff_reply_reaches_the_players_telegram_when_allowed(tg, support_agent):
    from support.services import ticket_message_post

    fake = tg
    owner = UserFactory(telegram_id=5150)
    ticket = SupportTicketFactory(user=owner, subject="Payout")
    ticket_message_post(ticket, support_agent, "Sent <today>")
    assert fake.last(5150) == "💬 Support replied to “Payout”:\nSent &lt;today&gt;"


def test_a_staff_reply_is_signed_with_the_name_once_and_the_role_once(client, api_client, player_user):
    from support.realtime import message_payload
    from support.services import ticket_message_post

    agent = UserFactory(username="support", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicketFactory(user=player_user)
    reply = ticket_message_post(ticket, agent, "Paid.")
    question = ticket_message_post(ticket, player_user, "Thanks!")
    assert reply.signature == "support · Support team"  # was "support · support"
    assert question.signature == player_user.username
    client.force_login(player_user)
    page = client.get(f"/support/{ticket.pk}/").content.decode()
    assert '<p class="who">support · Support team</p>' in page
    assert "· support<" not in page
    assert message_payload(reply)["signature"] == "support · Support team"  # what the live page shows
    api_client.force_authenticate(player_user)
    thread = api_client.get(f"{TICKETS}{ticket.pk}/").json()["messages"]
    assert [m["signature"] for m in thread] == ["support · Support team", player_user.username]
    agent.display_name = "Maya"
    agent.save()
    reply.refresh_from_db()
    assert reply.signature == "Maya · Support team"


def test_a_staff_reply_takes_an_unassigned_ticket_with_an_audit_entry(api_client, support_agent, player_user):
    ticket = SupportTicketFactory(user=player_user)
    api_client.force_authenticate(support_agent)
    assert api_client.post(f"{TICKETS}{ticket.pk}/messages/", {"body": "On it!"}, format="json").status_code == 201
    ticket.refresh_from_db()
    assert ticket.assigned_to == support_agent
    assert ticket.status == SupportTicket.Status.IN_PROGRESS
    (reply,) = AuditEntry.objects.all()  # one entry for the reply and all it moved
    assert (reply.action, reply.actor, reply.source) == ("ticket.reply", support_agent, AuditEntry.Source.API)
    assert reply.before == {"status": "open", "assigned_to": None}
    assert reply.after == {"status": "in_progress", "assigned_to": support_agent.pk}


def test_closing_from_a_stale_copy_keeps_what_changed_meanwhile(support_agent, player_user):
    """A page loaded before a reply took the ticket closes it: the assignee stays, the audit says what was."""
    from support.services import ticket_close, ticket_message_post

    ticket = SupportTicketFactory(user=player_user)
    stale = SupportTicket.objects.get(pk=ticket.pk)  # read before the reply
    ticket_message_post(ticket, support_agent, "Taking this one.")  # assigns it to the replier
    ticket_close(stale, actor=support_agent)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to) == (SupportTicket.Status.CLOSED, support_agent)
    assert stale.assigned_to == support_agent  # the caller's copy shows what is stored
    closed = AuditEntry.objects.filter(action="ticket.update").order_by("pk").last()
    assert closed.before == {"status": "in_progress", "assigned_to": support_agent.pk}
    assert closed.after == {"status": "closed", "assigned_to": support_agent.pk}


def test_a_staff_reply_leaves_an_assigned_ticket_with_its_assignee(support_agent, player_user):
    from support.services import ticket_message_post

    colleague = UserFactory(username="colleague", is_staff=True)
    colleague.groups.add(Group.objects.get(name="Support"))
    ticket = SupportTicketFactory(user=player_user, assigned_to=colleague)
    ticket_message_post(ticket, support_agent, "Covering for my colleague.")
    ticket.refresh_from_db()
    assert ticket.assigned_to == colleague
    (moved,) = AuditEntry.objects.all()  # the status moved on; the assignee did not
    assert moved.action == "ticket.reply"
    assert moved.before == {"status": "open", "assigned_to": colleague.pk}
    assert moved.after == {"status": "in_progress", "assigned_to": colleague.pk}


def test_a_players_message_and_a_staff_member_on_their_own_ticket_assign_nobody(support_agent, player_user):
    from support.services import ticket_message_post

    ticket = SupportTicketFactory(user=player_user)
    ticket_message_post(ticket, player_user, "Any news?")
    own = SupportTicketFactory(user=support_agent)
    ticket_message_post(own, support_agent, "A note on my own ticket.")
    assert not SupportTicket.objects.filter(assigned_to__isnull=False).exists()
    assert not AuditEntry.objects.exists()


def test_a_reply_that_fails_assigns_nobody(support_agent, player_user):
    from support.services import TicketClosed, ticket_message_post

    ticket = SupportTicketFactory(user=player_user)
    SupportTicket.objects.filter(pk=ticket.pk).update(status="closed")  # closed by a colleague meanwhile
    with pytest.raises(TicketClosed):
        ticket_message_post(ticket, support_agent, "Too late.")
    ticket.refresh_from_db()
    assert ticket.assigned_to is None
    assert not TicketMessage.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_reply_from_the_admin_inbox_takes_the_ticket_as_an_admin_action(client, support_agent, player_user):
    ticket = SupportTicketFactory(user=player_user, subject="Nobody's")
    client.force_login(support_agent)
    response = client.post(f"/admin/support/supportticket/{ticket.pk}/change/", {"body": "Mine now.", "_reply": "1"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assigned_to == support_agent
    (entry,) = AuditEntry.objects.all()  # taken and moved on to "in progress": one press, one entry
    assert (entry.action, entry.source) == ("ticket.reply", AuditEntry.Source.ADMIN)


def test_the_assignment_is_undone_with_the_reply_it_came_with(monkeypatch, support_agent, player_user):
    from support import services

    def broken_notify(*args, **kwargs):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr(services, "notify", broken_notify)
    ticket = SupportTicketFactory(user=player_user)
    with pytest.raises(RuntimeError):
        services.ticket_message_post(ticket, support_agent, "Lost with the notification.")
    ticket.refresh_from_db()
    assert (ticket.assigned_to, ticket.status) == (None, SupportTicket.Status.OPEN)
    assert not AuditEntry.objects.exists()


def test_the_live_reply_carries_the_tickets_new_status_for_the_page_header(
    monkeypatch, django_capture_on_commit_callbacks, client, support_agent, player_user
):
    from core import realtime as core_realtime
    from support.consumers import _thread
    from support.services import ticket_message_post

    sent = []
    monkeypatch.setattr(core_realtime, "send", lambda group, kind, **payload: sent.append((group, kind, payload)))
    ticket = SupportTicketFactory(user=player_user)
    client.force_login(player_user)
    header = '<span id="ticket-status" data-status="open">Open</span>'
    assert header in client.get(f"/support/{ticket.pk}/").content.decode()  # what the script updates
    with django_capture_on_commit_callbacks(execute=True):
        ticket_message_post(ticket, support_agent, "On it!")
    [(group, kind, payload)] = [s for s in sent if s[1] == "ticket.message"]
    assert (group, kind) == (f"support.{ticket.pk}", "ticket.message")
    assert payload["ticket"] == {"id": ticket.pk, "status": "in_progress", "status_label": "In progress"}
    assert payload["message"]["body"] == "On it!"
    assert _thread(ticket.pk)["ticket"]["status_label"] == "In progress"  # a reconnect's snapshot agrees


def test_the_admin_ticket_page_shows_the_thread_first_and_the_reply_box_below_it(client, support_agent, player_user):
    from support.services import ticket_message_post

    ticket = SupportTicketFactory(user=player_user, description="Where is my bonus?")
    ticket_message_post(ticket, player_user, "First question.")
    ticket_message_post(ticket, support_agent, "Latest answer.")
    client.force_login(support_agent)
    page = client.get(f"/admin/support/supportticket/{ticket.pk}/change/").content.decode()
    order = [page.index(text) for text in ("Where is my bonus?", "First question.", "Latest answer.", 'name="body"')]
    assert order == sorted(order)
    assert page.count('name="body"') == 1


def test_a_thread_is_paged_oldest_first_by_the_api(player_api, player_user, other_user, api_client):
    ticket = SupportTicketFactory(user=player_user)
    TicketMessage.objects.bulk_create(TicketMessage(ticket=ticket, author=player_user, body=f"m{i}") for i in range(60))
    page = player_api.get(f"{TICKETS}{ticket.pk}/messages/?limit=50&offset=50").json()
    assert page["count"] == 60
    assert [m["body"] for m in page["results"]] == [f"m{i}" for i in range(50, 60)]
    assert player_api.get(f"{TICKETS}{ticket.pk}/messages/?limit=101").status_code == 400
    api_client.force_authenticate(other_user)
    assert api_client.get(f"{TICKETS}{ticket.pk}/messages/").status_code == 404
    assert APIClient().get(f"{TICKETS}{ticket.pk}/messages/").status_code == 401
