from decimal import Decimal

import pytest
from django.urls import reverse

from core.audit import audit_changes
from core.models import AuditEntry
from tests.factories import UserFactory


def test_audit_changes_lists_only_changed_fields():
    assert audit_changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": (2, 3), "c": (None, 4)}


@pytest.mark.django_db
def test_an_admin_edit_of_a_user_is_audited_without_the_password_hash(client, staff_user):
    client.force_login(staff_user)
    user = UserFactory(username="edited")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "username": "edited",
            "email": user.email,
            "display_name": "Fresh Name",
            "profile_color": "#D7FF00",
            "verification_status": "unverified",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "notification_preferences-TOTAL_FORMS": "0",
            "notification_preferences-INITIAL_FORMS": "0",
        }
    )
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("player", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = AuditEntry.objects.get(action="user.change")
    assert entry.actor == staff_user
    assert (entry.before["display_name"], entry.after["display_name"]) == ("", "Fresh Name")
    assert "password" not in entry.after


@pytest.mark.django_db
def test_the_audit_log_is_read_only_in_admin(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("admin:core_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403


def test_every_admin_of_ours_records_adds_changes_and_deletes_in_the_audit_log():
    from django.contrib import admin

    from core.admin import AuditedAdminMixin
    from core.models import AuditEntry

    ours = {"accounts", "notifications", "races", "vip", "support", "telegram_bot"}
    missing = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ours and not isinstance(model_admin, AuditedAdminMixin)
    ]
    assert missing == []
    assert not isinstance(admin.site._registry[AuditEntry], AuditedAdminMixin)  # the log itself is read-only


@pytest.mark.django_db
def test_a_tier_edit_in_admin_is_audited_with_before_and_after(client, staff_user):
    from core.models import AuditEntry
    from vip.models import VipTier

    tier = VipTier.objects.get(slug="gold")
    client.force_login(staff_user)
    data = {"name": "Gold", "slug": "gold", "min_wager": "120000", "color": tier.color, "perks": '["Loss-back"]'}
    assert client.post(f"/admin/vip/viptier/{tier.pk}/change/", data).status_code == 302
    entry = AuditEntry.objects.get(target_type="vip.viptier", target_id=str(tier.pk))
    assert entry.actor == staff_user
    assert Decimal(entry.before["min_wager"]) == Decimal("100000")
    assert Decimal(entry.after["min_wager"]) == Decimal("120000")
