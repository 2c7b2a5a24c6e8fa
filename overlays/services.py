"""Writing overlay links: create, revoke, rotate. Each writes its audit entry; revoking or rotating closes the
sockets opened with the old token once the change is committed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, audit_snapshot
from core.errors import NotFound, ServiceError
from core.models import AuditEntry
from overlays import realtime
from overlays.models import OverlayLink, token_new


class OverlayOptionsInvalid(ServiceError):
    code = "invalid_overlay_options"


def overlay_link_create(kind: str, *, actor=None, source: str = AuditEntry.Source.SERVICE, **options) -> OverlayLink:
    """A new link of `kind` with `options` (n, period, race_type, raffle, theme, accent, font_size, label)."""
    link = OverlayLink(kind=kind, created_by=actor if getattr(actor, "is_authenticated", False) else None, **options)
    try:
        link.full_clean()
    except ValidationError as exc:
        raise OverlayOptionsInvalid("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
    with transaction.atomic():
        link.save()
        audit_record(actor=actor, action="overlaylink.create", target=link, after=audit_snapshot(link), source=source)
    return link


def _locked(link_id: int) -> OverlayLink:
    link = OverlayLink.objects.select_for_update().filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"Overlay link {link_id} does not exist.")
    return link


def overlay_link_revoke(link_id: int, *, actor=None, source: str = AuditEntry.Source.SERVICE) -> bool:
    """Revoke a link: its URL answers 404 from now on and its open sockets close. False if already revoked."""
    with transaction.atomic():
        link = _locked(link_id)
        if link.revoked_at is not None:
            return False
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="overlaylink.revoke", target=link,
                     after={"revoked_at": link.revoked_at}, source=source)  # fmt: skip
        token = link.token
        transaction.on_commit(lambda: realtime.overlay_close_announce(token))
    return True


def overlay_link_rotate(link_id: int, *, actor=None, source: str = AuditEntry.Source.SERVICE) -> OverlayLink:
    """Give a link a new token: the old URL answers 404 and its sockets close; the options stay. A revoked link
    becomes active again under the new URL (the old one stays dead)."""
    with transaction.atomic():
        link = _locked(link_id)
        old, was_revoked = link.token, link.revoked_at
        link.token, link.revoked_at = token_new(), None
        link.save(update_fields=["token", "revoked_at"])
        # Neither token goes into the audit log: either one opens the overlay.
        audit_record(actor=actor, action="overlaylink.rotate", target=link,
                     before={"revoked_at": was_revoked}, after={"revoked_at": None}, source=source)  # fmt: skip
        transaction.on_commit(lambda: realtime.overlay_close_announce(old))
    return link


def overlay_link_changed(link: OverlayLink) -> None:
    """Options were edited (admin): open sockets read the link again once the edit is committed."""
    token = link.token
    transaction.on_commit(lambda: realtime.overlay_changed_announce(token))
