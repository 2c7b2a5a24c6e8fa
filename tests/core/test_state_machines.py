"""Races, verification requests and tickets change status only through their services.

Admin change forms cannot edit a status (or a ticket's owner, a message's author): the POST is accepted for the
fields that are editable and the rest is ignored. Each transition, whoever triggers it (admin action, bot
command, task, shell), writes exactly one audit entry naming the actor.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import verification_approve, verification_reject
from core.models import AuditEntry
from core.roles import OPERATORS, SUPPORT
from notifications.models import Notification
from races.models import HistoricalRace, Player, RaceResult, WagerRace
from races.services.lifecycle import race_finalize, race_start, race_tick
from races.services.standings import races_refresh_after_sync
from races.services.sync import sync_wagers
from support.models import SupportTicket, TicketMessage
from support.services import ticket_close, ticket_message_post
from tests.factories import (
    PlayerFactory,
    SupportTicketFactory,
    TicketMessageFactory,
    UserFactory,
    VerificationRequestFactory,
    WagerRaceFactory,
)


def _member(role: str, username: str) -> User:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _audit(action: str) -> list[tuple]:
    return list(AuditEntry.objects.filter(action=action).values_list("actor__username", "source", "target_id"))


def _act(client, model: str, action: str, objects, **extra):
    url = reverse(f"admin:{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


# --- races ----------------------------------------------------------------------------------------------------


def _race_form(race: WagerRace, **changes) -> dict:
    data = {
        "title": race.title, "type": race.type, "recurrence": race.recurrence,
        "start_date_0": race.start_date.strftime("%Y-%m-%d"), "start_date_1": race.start_date.strftime("%H:%M:%S"),
        "end_date_0": race.end_date.strftime("%Y-%m-%d"), "end_date_1": race.end_date.strftime("%H:%M:%S"),
        "prize_pool": str(race.prize_pool), "min_wager": str(race.min_wager),
        "prize_distribution": json.dumps(race.prize_distribution), "description": "", "rules": "", "entry": race.entry,
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.django_db
def test_the_race_change_form_cannot_complete_a_live_race(client):
    operator = _member(OPERATORS, "op")
    client.force_login(operator)
    now = timezone.now()
    race = WagerRaceFactory(start_date=now - timedelta(days=1), end_date=now + timedelta(days=1))
    race_start(race.pk, now=race.start_date)
    url = reverse("admin:races_wagerrace_change", args=[race.pk])
    response = client.post(url, _race_form(race, status="completed", title="Renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    race.refresh_from_db()
    assert (race.title, race.status, race.finalized_at) == ("Renamed", WagerRace.Status.LIVE, None)
    assert 'name="status"' not in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_race_added_in_admin_starts_upcoming_whatever_status_is_posted(client):
    client.force_login(_member(OPERATORS, "op"))
    now = timezone.now()
    race = WagerRace(
        title="New", type="custom", recurrence="none", start_date=now - timedelta(hours=1),
        end_date=now + timedelta(days=1), prize_pool=Decimal("10"), min_wager=Decimal("0"),
        prize_distribution={"1": 100},
    )  # fmt: skip
    response = client.post(reverse("admin:races_wagerrace_add"), _race_form(race, status="live"))
    assert response.status_code == 302
    created = WagerRace.objects.get(title="New")
    assert created.status == WagerRace.Status.UPCOMING
    assert race_tick(now=now).started == [created.pk]  # the tick starts it, recording its baselines


@pytest.mark.django_db
def test_each_race_action_writes_one_audit_entry_with_its_actor(client):
    operator = _member(OPERATORS, "op")
    client.force_login(operator)
    now = timezone.now()
    race = WagerRaceFactory(start_date=now + timedelta(days=1), end_date=now + timedelta(days=8))
    spare = WagerRaceFactory(start_date=now + timedelta(days=1), end_date=now + timedelta(days=8))
    for action, target in [("start_now", race), ("recompute", race), ("finalize_now", race), ("cancel", spare)]:
        _act(client, "races_wagerrace", action, [target])
    for name, target in [
        ("race.start", race),
        ("race.recompute", race),
        ("race.finalize", race),
        ("race.cancel", spare),
    ]:
        assert _audit(name) == [("op", "admin", str(target.pk))], name
    assert AuditEntry.objects.filter(action__startswith="race.").count() == 4


@pytest.mark.django_db
def test_the_scheduler_and_the_shell_leave_the_same_audit_entries_as_admin():
    now = timezone.now()
    race = WagerRaceFactory(start_date=now - timedelta(days=2), end_date=now - timedelta(days=1))
    race_tick(now=now)  # a missed window: started, then finalized at once
    assert _audit("race.start") == [(None, "system", str(race.pk))]
    assert _audit("race.finalize") == [(None, "system", str(race.pk))]
    shell_race = WagerRaceFactory(start_date=now + timedelta(days=1), end_date=now + timedelta(days=8))
    operator = _member(OPERATORS, "op")
    race_start(shell_race.pk, actor=operator)
    race_finalize(shell_race.pk, actor=operator, force=True)
    assert AuditEntry.objects.filter(target_id=str(shell_race.pk), actor=operator).count() == 2
    race_finalize(shell_race.pk, actor=operator, force=True)  # nothing left to do: nothing recorded
    assert AuditEntry.objects.filter(target_id=str(shell_race.pk)).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_race_finalized_from_admin_while_a_sync_runs_ends_with_results_prizes_and_one_archive(
    client, httpserver, settings
):
    """The sync is held inside its fetch (upstream answers slowly) while the operator finalizes the race; when
    the data arrives the sync leaves the finished race alone."""
    from werkzeug import Response

    settings.AFFILIATE_API_URL = httpserver.url_for("/feed")
    settings.FEED_MAX_RETRIES = 0
    now = timezone.now()
    race = WagerRaceFactory(
        title="Sprint", type="custom", start_date=now - timedelta(days=1), end_date=now + timedelta(days=1),
        prize_pool=Decimal("100"), prize_distribution={"1": 60, "2": 40},
    )  # fmt: skip
    runners = [PlayerFactory(uid=f"runner{i}", name=f"Runner{i}", wager_all_time=Decimal(w)) for i, w in
               enumerate(["900", "500", "100"])]  # fmt: skip
    race_start(race.pk, now=race.start_date)  # baselines: growth is measured from here
    Player.objects.filter(pk=runners[0].pk).update(wager_all_time=Decimal("1900"))
    Player.objects.filter(pk=runners[1].pk).update(wager_all_time=Decimal("1000"))
    races_refresh_after_sync(now)
    fetching, release = threading.Event(), threading.Event()
    late_feed = {"success": True, "data": [
        {"uid": f"runner{i}", "name": f"Runner{i}",
         "wagered": {"today": "0", "this_week": "0", "this_month": "0", "all_time": str(5000 + i)}}
        for i in range(3)
    ]}  # fmt: skip

    def slow_feed(request):
        fetching.set()
        release.wait(10)
        return Response(json.dumps(late_feed), content_type="application/json")

    httpserver.expect_request("/feed").respond_with_handler(slow_feed)
    outcome = {}

    def run_sync():
        try:
            outcome["sync"] = sync_wagers()
        finally:
            connection.close()

    worker = threading.Thread(target=run_sync)
    worker.start()
    assert fetching.wait(10)
    client.force_login(_member(OPERATORS, "op"))
    response = _act(client, "races_wagerrace", "finalize_now", [race])
    assert "Finalized: 1 race(s)." in response.content.decode()
    release.set()
    worker.join(20)
    assert outcome["sync"].ok, outcome["sync"].error
    race.refresh_from_db()
    assert race.status == WagerRace.Status.COMPLETED
    results = list(RaceResult.objects.filter(race=race).order_by("rank").values_list("name", "wagered", "prize"))
    assert results == [("Runner0", Decimal("1000"), Decimal("60.00")), ("Runner1", Decimal("500"), Decimal("40.00"))]
    assert HistoricalRace.objects.filter(race=race).count() == 1
    assert race.pk not in outcome["sync"].races  # the late data did not touch the finished race


# --- verification requests ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_verification_change_form_cannot_decide_or_reassign_a_request(client):
    client.force_login(_member(SUPPORT, "helper"))
    claimant, other = UserFactory(username="claimant"), UserFactory(username="other")
    request = VerificationRequestFactory(user=claimant, player=PlayerFactory(name="LuckyGoat88"))
    url = reverse("admin:accounts_verificationrequest_change", args=[request.pk])
    response = client.post(url, {"status": "approved", "user": other.pk, "admin_notes": "ok", "goated_name": "X"})
    assert response.status_code in (200, 302)
    request.refresh_from_db()
    assert (request.status, request.user, request.goated_name, request.admin_notes) == (
        "pending", claimant, "LuckyGoat88", ""
    )  # fmt: skip
    claimant.refresh_from_db()
    assert claimant.player is None


@pytest.mark.django_db
def test_the_user_change_form_cannot_link_a_player_or_verify_an_account(client, staff_user):
    client.force_login(staff_user)
    player = UserFactory(username="someone")
    goat = PlayerFactory(name="Goat")
    url = reverse("admin:accounts_user_change", args=[player.pk])
    form = {
        "username": "someone", "email": "someone@example.com", "player": goat.pk, "verification_status": "verified",
        "profile_color": "#D7FF00", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "is_active": "on",
        "notification_preferences-TOTAL_FORMS": "0", "notification_preferences-INITIAL_FORMS": "0",
    }  # fmt: skip
    assert client.post(url, form).status_code == 302
    player.refresh_from_db()
    assert (player.player_id, player.verification_status) == (None, "unverified")


@pytest.mark.django_db
def test_approve_and_reject_from_admin_write_one_audit_entry_each_and_tell_the_player(client):
    reviewer = _member(SUPPORT, "helper")
    client.force_login(reviewer)
    first, second = UserFactory(username="first"), UserFactory(username="second")
    approve = VerificationRequestFactory(user=first, player=PlayerFactory(name="GoatA"), goated_name="GoatA")
    reject = VerificationRequestFactory(user=second, player=PlayerFactory(name="GoatB"), goated_name="GoatB")
    _act(client, "accounts_verificationrequest", "approve", [approve])
    page = _act(client, "accounts_verificationrequest", "reject", [reject]).content.decode()
    assert "The reason is sent to each requester." in page  # the reason is asked first
    assert _audit("verification.reject") == []
    _act(client, "accounts_verificationrequest", "reject", [reject], apply="1", reason="Wagers do not match")
    assert _audit("verification.approve") == [("helper", "admin", str(approve.pk))]
    assert _audit("verification.reject") == [("helper", "admin", str(reject.pk))]
    assert AuditEntry.objects.get(action="verification.reject").after["reason"] == "Wagers do not match"
    first.refresh_from_db()
    assert (first.player.name, first.verification_status) == ("GoatA", "verified")
    assert "Wagers do not match" in Notification.objects.get(user=second).body


@pytest.mark.django_db
def test_a_decision_from_the_bot_path_leaves_the_same_audit_entry_as_from_admin():
    reviewer = _member(SUPPORT, "helper")
    a = VerificationRequestFactory(user=UserFactory(), player=PlayerFactory(name="GoatA"))
    b = VerificationRequestFactory(user=UserFactory(), player=PlayerFactory(name="GoatB"))
    verification_approve(a.pk, actor=reviewer, source=AuditEntry.Source.ADMIN)
    verification_approve(b.pk, actor=reviewer, source=AuditEntry.Source.BOT)
    rows = AuditEntry.objects.filter(action="verification.approve").order_by("pk")
    shapes = [(e.actor, e.action, e.target_type, e.before, sorted(e.after)) for e in rows]
    assert shapes[0] == shapes[1]
    assert [e.source for e in rows] == ["admin", "bot"]
    with pytest.raises(Exception, match="already approved"):
        verification_reject(a.pk, actor=reviewer, reason="late")
    assert AuditEntry.objects.filter(action__startswith="verification.").count() == 2


# --- tickets --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_ticket_page_cannot_change_the_players_words_status_owner_or_assignee(client):
    agent = _member(SUPPORT, "agent")
    client.force_login(agent)
    owner, other = UserFactory(username="owner"), UserFactory(username="other")
    ticket = SupportTicketFactory(user=owner, subject="Lost code", description="Where is it?")
    url = reverse("admin:support_supportticket_change", args=[ticket.pk])
    form = {
        "subject": "Edited subject", "description": "Rewritten", "priority": "high", "status": "closed",
        "user": other.pk, "assigned_to": agent.pk, "messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0",
    }  # fmt: skip
    assert client.post(url, form).status_code == 200  # no button pressed: the page again, nothing written
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.description, ticket.priority) == ("Lost code", "Where is it?", "medium")
    assert (ticket.status, ticket.user, ticket.assigned_to, ticket.closed_at) == ("open", owner, None, None)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_ticket_message_cannot_be_edited_or_reattributed_in_admin(client, staff_user):
    client.force_login(staff_user)
    message = TicketMessageFactory(body="Original")
    impostor = UserFactory(username="impostor")
    url = reverse("admin:support_ticketmessage_change", args=[message.pk])
    client.post(url, {"author": impostor.pk, "body": "Rewritten", "ticket": message.ticket_id})
    message.refresh_from_db()
    assert (message.author, message.body) == (message.ticket.user, "Original")
    assert client.get(reverse("admin:support_ticketmessage_add")).status_code == 403


@pytest.mark.django_db
def test_each_ticket_action_writes_one_audit_entry_with_its_actor(client):
    agent, colleague = _member(SUPPORT, "agent"), _member(SUPPORT, "colleague")
    client.force_login(agent)
    ticket = SupportTicketFactory()
    _act(client, "support_supportticket", "assign_to_me", [ticket])
    page = _act(client, "support_supportticket", "assign", [ticket]).content.decode()
    assert "Who takes these tickets?" in page
    _act(client, "support_supportticket", "assign", [ticket], apply="1", assignee=colleague.pk)
    _act(client, "support_supportticket", "close", [ticket])
    _act(client, "support_supportticket", "reopen", [ticket])
    entries = AuditEntry.objects.filter(action="ticket.update", target_id=str(ticket.pk)).order_by("pk")
    assert [(e.actor, e.source, e.after) for e in entries] == [
        (agent, "admin", {"status": "open", "assigned_to": agent.pk}),
        (agent, "admin", {"status": "open", "assigned_to": colleague.pk}),
        (agent, "admin", {"status": "closed", "assigned_to": colleague.pk}),
        (agent, "admin", {"status": "open", "assigned_to": colleague.pk}),
    ]
    _act(client, "support_supportticket", "reopen", [ticket])  # not closed: refused, nothing recorded
    assert entries.count() == 4


@pytest.mark.django_db
def test_ticket_transitions_from_the_site_and_the_shell_go_through_the_same_service():
    agent = _member(SUPPORT, "agent")
    ticket = SupportTicketFactory()
    ticket_message_post(ticket, agent, "On it")  # a staff reply moves it on, and takes the unassigned ticket
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.IN_PROGRESS
    assert ticket.assigned_to == agent
    ticket_close(ticket, actor=agent)
    # Taken and moved on to "in progress" by the reply (one entry), then closed: every status change is audited.
    assert _audit("ticket.reply") == [("agent", "service", str(ticket.pk))]
    assert _audit("ticket.update") == [("agent", "service", str(ticket.pk))]
    moved = AuditEntry.objects.get(action="ticket.reply")
    assert moved.before == {"status": "open", "assigned_to": None}
    assert moved.after == {"status": "in_progress", "assigned_to": agent.pk}
    with pytest.raises(Exception, match="closed"):
        ticket_message_post(ticket, ticket.user, "One more thing")
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1
