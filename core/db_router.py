"""Reads from a replica (DATABASE_REPLICA_URL), writes to the primary.

Only the read-mostly public data is read from the replica — the leaderboards, races and their standings,
results and archive, tiers and bonus code lists — and only where a short replication lag cannot hurt:

- never inside a transaction (a service that reads to decide, then writes: a claim, a finalization);
- never in a Celery task, a write request (anything but GET/HEAD) or the back office, which read what they
  just wrote (`PrimaryOnlyMiddleware`, `primary_only`);
- everything else (sessions, accounts, notifications, tickets) always on the primary.

Without a replica (or with READ_REPLICA=0) every query goes to the primary.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

REPLICA = "replica"
REPLICA_MODELS = frozenset({
    "races.player", "races.wagerrace", "races.raceparticipant", "races.raceresult", "races.historicalrace",
    "races.raceprogresssample", "races.wagerday", "vip.viptier", "vip.bonuscode", "vip.wheelsegment",
})  # fmt: skip
_primary_only: contextvars.ContextVar[bool] = contextvars.ContextVar("primary_only", default=False)


def replica_in_use() -> bool:
    return bool(getattr(settings, "READ_REPLICA", False)) and REPLICA in settings.DATABASES


@contextmanager
def primary_only():
    token = _primary_only.set(True)
    try:
        yield
    finally:
        _primary_only.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not replica_in_use() or model._meta.label_lower not in REPLICA_MODELS:
            return None
        if _primary_only.get() or connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return None  # the default database

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return None


class PrimaryOnlyMiddleware:
    """Write requests and the back office read from the primary (what they just wrote must be there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and not request.path.startswith("/admin/"):
            return self.get_response(request)
        with primary_only():
            return self.get_response(request)


def task_primary_connect() -> None:
    """Celery tasks read from the primary: they act on what they read."""
    from celery.signals import task_postrun, task_prerun

    tokens: dict[str, contextvars.Token] = {}

    def prerun(task_id=None, **_kwargs):
        tokens[task_id] = _primary_only.set(True)

    def postrun(task_id=None, **_kwargs):
        token = tokens.pop(task_id, None)
        if token is not None:
            _primary_only.reset(token)

    task_prerun.connect(prerun, weak=False, dispatch_uid="core.db_router.prerun")
    task_postrun.connect(postrun, weak=False, dispatch_uid="core.db_router.postrun")
