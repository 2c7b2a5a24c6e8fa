"""Recording staff actions in the audit log (`core.models.AuditEntry`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from core.errors import SeparationOfDuties
from core.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | datetime | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def audit_snapshot(obj: models.Model | None, exclude: tuple[str, ...] = ("password",)) -> dict | None:
    """The object's editable field values as JSON-safe data (secrets excluded)."""
    if obj is None:
        return None
    data = model_to_dict(obj, exclude=exclude)
    return _jsonable(data)


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    source: str = AuditEntry.Source.SERVICE,
    note: str = "",
) -> AuditEntry:
    """Append one audit entry. Call it inside the transaction of the change it describes."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=getattr(actor_obj, "username", "") or "",
        action=action,
        source=source,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note,
    )


def duty_refused(
    *, actor, action: str, target: models.Model | None, message: str, source: str = AuditEntry.Source.SERVICE
) -> SeparationOfDuties:
    """Record a separation-of-duties refusal (`<action>.refused`, its reason in the note) and return the error to
    raise. Call it outside the transaction that the refusal rolls back, or the record goes with it."""
    audit_record(actor=actor, action=f"{action}.refused", target=target, source=source, note=message)
    return SeparationOfDuties(message)


def same_person(actor, user_id: int | None) -> bool:
    """Whether `actor` (a staff user, or None for the system) is the account `user_id`."""
    return user_id is not None and getattr(actor, "pk", None) == user_id


def plays_as(actor, player_id: int | None) -> bool:
    """Whether `actor` is the site account linked to the Goated player `player_id`."""
    return player_id is not None and getattr(actor, "player_id", None) == player_id


def audit_changes(before: dict | None, after: dict | None) -> dict[str, tuple[Any, Any]]:
    """Only the fields that changed: {field: (old, new)}."""
    before, after = before or {}, after or {}
    return {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
