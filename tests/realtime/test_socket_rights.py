"""Open sockets follow the rights behind them: every change that ends a right closes or re-checks the sockets it
opened (docs/security.md, "Socket lifetime rules"), through the real ASGI application."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from notifications.services import notify
from support.models import SupportTicket
from tests.factories import UserFactory
from tests.realtime.test_consumers import connect

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def closed_with(ws) -> int | None:
    out = await ws.receive_output(timeout=5)
    return out.get("code") if out["type"] == "websocket.close" else None


async def follows(ws, user) -> bool:
    """The socket is open and still streams: a new notification reaches it."""
    await sync_to_async(notify)(user, "ticket.reply", title="Still here?")
    event = await ws.receive_json_from(timeout=5)
    return event["type"] == "notification"


def _signed_in(user) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect_with(path: str, session_key: str):
    from channels.testing import WebsocketCommunicator

    from goatedvips.asgi import application
    from tests.realtime.test_consumers import ORIGIN

    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())
    ws = WebsocketCommunicator(application, path, headers=[*ORIGIN, cookie])
    assert (await ws.connect(timeout=5))[0]
    await ws.receive_json_from(timeout=5)  # the snapshot
    return ws


def _agent(name: str) -> User:
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


def _ticket(owner) -> SupportTicket:
    return SupportTicket.objects.create(user=owner, subject="Help", description="Please")


async def test_a_stolen_sessions_sockets_close_when_the_victim_resets_the_password():
    victim = await sync_to_async(UserFactory)(username="victim", email="victim@example.com")
    ticket = await sync_to_async(_ticket)(victim)
    notes, _ = await connect("/ws/notifications/", victim)  # the thief's copy of the session
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", victim)

    def reset_by_link() -> int:
        browser = Client()
        uid, token = urlsafe_base64_encode(force_bytes(victim.pk)), default_token_generator.make_token(victim)
        form = browser.get(f"/accounts/password-reset/{uid}/{token}/", follow=True)
        new = {"new_password1": "A-new-secret-1984", "new_password2": "A-new-secret-1984"}
        return browser.post(form.redirect_chain[-1][0], new).status_code

    assert await sync_to_async(reset_by_link)() == 302
    assert await closed_with(notes) == 4401
    assert await closed_with(thread) == 4401
    _again, refused = await connect("/ws/notifications/", victim)
    assert refused == {"closed": 4401}


async def test_a_password_set_anywhere_else_closes_the_old_sessions_sockets():
    user = await sync_to_async(UserFactory)(username="changer")
    notes, _ = await connect("/ws/notifications/", user)

    def change() -> None:  # admin's password form, `changepassword` and the settings page all end in this save
        user.set_password("Another-secret-2024")
        user.save()

    await sync_to_async(change)()
    assert await closed_with(notes) == 4401


async def test_signing_out_closes_the_sockets_of_that_session_only():
    user = await sync_to_async(UserFactory)(username="two-browsers")
    (laptop, laptop_key), (_phone, phone_key) = (
        await sync_to_async(_signed_in)(user),
        await sync_to_async(_signed_in)(user),
    )
    on_laptop = await connect_with("/ws/notifications/", laptop_key)
    on_phone = await connect_with("/ws/notifications/", phone_key)
    assert (await sync_to_async(laptop.post)("/accounts/logout/")).status_code == 302
    assert await closed_with(on_laptop) == 4401
    assert await follows(on_phone, user)  # the phone is still signed in
    await on_phone.disconnect()


async def test_deactivating_an_account_in_the_admin_form_closes_its_sockets():
    player = await sync_to_async(UserFactory)(username="deactivated")
    ticket = await sync_to_async(_ticket)(player)
    notes, _ = await connect("/ws/notifications/", player)
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", player)

    def admin_form_unticks_active() -> int:
        admin = User.objects.create_superuser("root", "root@example.com", "x")
        client = Client()
        client.force_login(admin)
        url = f"/admin/accounts/user/{player.pk}/change/"
        data = _admin_form_data(client.get(url))
        data.pop("is_active", None)  # an unticked box is not sent
        return client.post(url, data).status_code

    assert await sync_to_async(admin_form_unticks_active)() == 302
    assert not (await User.objects.aget(pk=player.pk)).is_active
    assert await closed_with(notes) == 4403
    assert await closed_with(thread) == 4403


def _admin_form_data(page) -> dict:
    """What the browser would send back for the admin change page as shown."""
    data = {}
    forms = [page.context["adminform"].form]
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        forms.extend(formset.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False or form.fields[name].disabled:
                continue
            data[form.add_prefix(name)] = [getattr(v, "pk", v) for v in value] if isinstance(value, list) else value
    return data


async def test_a_support_agent_whose_staff_status_is_removed_stops_receiving_the_thread():
    owner = await sync_to_async(UserFactory)(username="owner")
    ticket = await sync_to_async(_ticket)(owner)
    agent = await sync_to_async(_agent)("demoted")
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", agent)
    notes, _ = await connect("/ws/notifications/", agent)

    def demote() -> None:
        agent.is_staff = False
        agent.save()

    await sync_to_async(demote)()
    assert await closed_with(thread) == 4403
    assert await follows(notes, agent)  # their own notifications are still theirs
    await notes.disconnect()


@pytest.mark.parametrize(
    "leave",
    [
        lambda agent, group: agent.groups.remove(group),
        lambda agent, group: agent.groups.clear(),
        lambda agent, group: group.user_set.remove(agent),
        lambda agent, group: group.user_set.clear(),
        lambda agent, group: group.permissions.clear(),
    ],
    ids=["user.groups.remove", "user.groups.clear", "group.user_set.remove", "group.user_set.clear", "group.perms"],
)
async def test_a_support_agent_who_leaves_the_support_group_stops_receiving_the_thread(leave):
    owner = await sync_to_async(UserFactory)(username="owner")
    ticket = await sync_to_async(_ticket)(owner)
    agent = await sync_to_async(_agent)("leaving")
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", agent)
    mine, _ = await connect(f"/ws/support/{ticket.pk}/", owner)
    support = await Group.objects.aget(name="Support")
    await sync_to_async(leave)(agent, support)
    assert await closed_with(thread) == 4403
    assert await mine.receive_nothing(timeout=0.3)  # the owner keeps following their ticket
    await mine.disconnect()


async def test_a_deleted_ticket_closes_its_thread_sockets():
    owner = await sync_to_async(UserFactory)(username="owner")
    ticket = await sync_to_async(_ticket)(owner)
    thread, _ = await connect(f"/ws/support/{ticket.pk}/", owner)
    await sync_to_async(ticket.delete)()
    assert await closed_with(thread) == 4403
