"""What each staff role may do in admin, checked through the admin itself (HTTP status per page)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core.roles import OPERATORS, ROLES, SUPPORT, roles_sync
from tests.factories import UserFactory

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


def _staff(role: str):
    user = UserFactory(username=f"{role.lower()}-member", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_every_admin_model_is_decided_for_every_role_or_denied_on_purpose():
    listed = {label for spec in ROLES.values() for label in spec}
    unlisted = {m._meta.label_lower for m in MODELS} - listed
    # Only framework tables may be left to superusers.
    assert unlisted <= {"auth.group", "authtoken.tokenproxy"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [OPERATORS, SUPPORT])
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label_lower for m in MODELS])
def test_each_role_sees_exactly_what_its_table_allows(client, role, model):
    client.force_login(_staff(role))
    allowed = ROLES[role].get(model._meta.label_lower, ())
    label = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    changelist = client.get(reverse(f"{label}_changelist"))
    assert changelist.status_code == (200 if {"view", "change"} & set(allowed) else 403)
    add = client.get(reverse(f"{label}_add"))
    model_admin = admin.site._registry[model]
    can_add = "add" in allowed and model_admin.has_add_permission(add.wsgi_request)
    assert add.status_code == (200 if can_add else 403)


@pytest.mark.django_db
def test_support_staff_cannot_edit_races_codes_or_tiers(client):
    client.force_login(_staff(SUPPORT))
    for name in ("races_wagerrace", "vip_bonuscode", "vip_viptier"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403


@pytest.mark.django_db
def test_role_sync_removes_permissions_granted_by_hand():
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="change_wagerrace"))
    roles_sync()
    assert not support.permissions.filter(codename="change_wagerrace").exists()
    assert support.permissions.count() == sum(len(actions) for actions in ROLES[SUPPORT].values())


@pytest.mark.django_db
@pytest.mark.parametrize("role", [OPERATORS, SUPPORT])
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label_lower for m in MODELS])
def test_each_role_can_view_add_change_delete_exactly_as_its_table_says(rf, role, model):
    """Every permission of every admin model, for both roles: what the table grants, within what the admin
    allows at all (a superuser's permissions: read-only logs stay read-only for everyone)."""
    member = _staff(role)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    allowed = set(ROLES[role].get(model._meta.label_lower, ()))
    for action in ("view", "add", "change", "delete"):
        member_request, root_request = rf.get("/admin/"), rf.get("/admin/")
        member_request.user, root_request.user = member, superuser
        check = f"has_{action}_permission"
        possible = getattr(model_admin, check)(root_request)
        expected = possible and (action in allowed or (action == "view" and "change" in allowed))
        assert getattr(model_admin, check)(member_request) == expected, f"{role} {action} {model._meta.label}"
