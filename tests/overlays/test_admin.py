"""Overlay links in admin: the list and the page show the full URL to copy; Revoke and Rotate are one POST each,
audited; editing is audited too."""

from __future__ import annotations

import pytest

from core.models import AuditEntry
from overlays.models import OverlayLink
from overlays.services import overlay_link_create

pytestmark = pytest.mark.django_db


def test_the_list_and_the_page_show_the_url_and_the_buttons_work(client, staff_user):
    client.force_login(staff_user)
    link = overlay_link_create("race", label="Main scene")
    assert link.url in client.get("/admin/overlays/overlaylink/").text
    page = client.get(f"/admin/overlays/overlaylink/{link.pk}/change/").text
    assert link.url in page
    assert "Revoke" in page
    assert "Rotate token" in page
    assert client.get(f"/admin/overlays/overlaylink/{link.pk}/revoke/").status_code == 405
    client.post(f"/admin/overlays/overlaylink/{link.pk}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is not None
    old = link.token
    client.post(f"/admin/overlays/overlaylink/{link.pk}/rotate/")
    link.refresh_from_db()
    assert (link.token != old, link.revoked_at) == (True, None)
    actions = set(AuditEntry.objects.filter(source="admin").values_list("action", flat=True))
    assert actions == {"overlaylink.revoke", "overlaylink.rotate"}


def test_adding_and_editing_in_admin_is_audited(client, staff_user):
    client.force_login(staff_user)
    form = {"label": "Ticker", "kind": "ticker", "n": 8, "period": "weekly", "race_type": "", "raffle": "",
            "theme": "light", "accent": "#ff0066", "font_size": 30}  # fmt: skip
    response = client.post("/admin/overlays/overlaylink/add/", form)
    assert response.status_code == 302, response.content[:2000]
    link = OverlayLink.objects.get()
    assert (link.created_by, link.n, link.theme) == (staff_user, 8, "light")
    client.post(f"/admin/overlays/overlaylink/{link.pk}/change/", {**form, "n": 12})
    assert list(AuditEntry.objects.filter(source="admin").order_by("pk").values_list("action", flat=True)) == [
        "overlaylink.add", "overlaylink.change"]  # fmt: skip
    bad = client.post("/admin/overlays/overlaylink/add/", {**form, "accent": "red"})
    assert bad.status_code == 200  # the form shows the error
