"""Data export (issue 35): everything stored about an account, as one JSON document.

Which rows: every row of every model with a foreign key to the user (found from the models themselves, so a new
model is exported without anyone remembering to add it), every row of every model with a foreign key to the
user's linked Goated player, the player itself, and the audit rows whose subject is the user or the player.
Which fields: all of them but secrets (SECRET_FIELDS: password hashes, token keys, unrevealed seeds, one-time
nonces). tests/core/test_export.py fails when a model that references the user is missing from the export.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import AuditEntry

SECRET_FIELDS = {"password", "key", "nonce", "server_seed", "secret", "send_key", "token", "token_encrypted"}
FORMAT_VERSION = 1


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _row(obj: models.Model) -> dict:
    out = {}
    for field in obj._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        out[field.attname] = _value(getattr(obj, field.attname))
    return out


def references(target: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every foreign key or one-to-one field pointing at `target`, in every app."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue  # its rows are its concrete model's
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is target:
                found.append((model, field.name))
    return sorted(found, key=lambda pair: (pair[0]._meta.label, pair[1]))


def account_export(user) -> dict:
    """The export document of `user` (a dict ready for JSON)."""
    User = apps.get_model(settings.AUTH_USER_MODEL)
    document: dict = {
        "format": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "account": _row(user),
        "player": None,
        "records": {},
    }
    records = document["records"]
    for model, field in references(User):
        rows = [_row(obj) for obj in model._default_manager.filter(**{field: user}).order_by("pk")]
        if rows:
            records.setdefault(model._meta.label, []).extend(rows)
    player = getattr(user, "player", None)
    if player is not None:
        document["player"] = _row(player)
        for model, field in references(type(player)):
            if model is User:
                continue
            rows = [_row(obj) for obj in model._default_manager.filter(**{field: player}).order_by("pk")]
            if rows:
                records.setdefault(model._meta.label, []).extend(rows)
    subjects = [(User._meta.label_lower, str(user.pk))]
    if player is not None:
        subjects.append((player._meta.label_lower, str(player.pk)))
    about = models.Q()
    for target_type, target_id in subjects:
        about |= models.Q(target_type=target_type, target_id=target_id)
    document["audit_about_you"] = [_row(entry) for entry in AuditEntry.objects.filter(about).order_by("pk")]
    return document
