"""The early lift in admin: a superuser only, with a reason, audited; an operator has no such action (and the
service refuses them anyway)."""

from __future__ import annotations

import pytest

from accounts.selfexclusion import self_exclusion_start
from core.models import AuditEntry
from tests.factories import StaffFactory, staff_member

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def on_a_break(verified_player, password):
    self_exclusion_start(verified_player, "180d", password=password)
    return verified_player


def _lift(client, user, reason: str | None):
    data = {"action": "lift_self_exclusion", "_selected_action": [user.pk]}
    if reason is not None:
        data |= {"apply": "1", "reason": reason}
    return client.post(CHANGELIST, data)


def test_a_superuser_lifts_a_break_early_with_a_reason_and_it_is_audited(client, on_a_break):
    root = StaffFactory(is_superuser=True)
    client.force_login(root)
    asked = _lift(client, on_a_break, None)
    assert asked.status_code == 200
    assert "Lift self-exclusions early" in asked.content.decode()
    blank = _lift(client, on_a_break, "   ")
    assert blank.status_code == 200  # the form again, nothing lifted
    on_a_break.refresh_from_db()
    assert on_a_break.self_excluded_until is not None
    done = _lift(client, on_a_break, "Started by mistake, confirmed by phone")
    assert done.status_code == 302
    on_a_break.refresh_from_db()
    assert on_a_break.self_excluded_until is None
    assert on_a_break.player.hidden_until is None
    entry = AuditEntry.objects.get(action="self_exclusion.lift")
    assert (entry.actor, entry.note, entry.source) == (root, "Started by mistake, confirmed by phone", "admin")


def test_an_operator_cannot_lift_a_break(client, on_a_break):
    client.force_login(staff_member("Operators"))
    page = client.get(CHANGELIST).content.decode()
    assert "lift_self_exclusion" not in page
    _lift(client, on_a_break, "I was asked nicely")
    on_a_break.refresh_from_db()
    assert on_a_break.self_excluded_until is not None
    assert not AuditEntry.objects.filter(action="self_exclusion.lift").exists()


def test_the_account_page_shows_the_break_and_the_terms_read_only(client, on_a_break):
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(f"{CHANGELIST}{on_a_break.pk}/change/").content.decode()
    assert "Responsible play and terms" in page
    assert 'name="self_excluded_until"' not in page  # shown, never edited
