"""Models that moved between apps keep their rows, and their permissions follow them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE_THE_MOVES = [
    ("accounts", "0002_staff_groups"),
    ("telegram_bot", "0002_link_tokens_and_bot_users"),
    ("goatedvips", "0001_audit_log"),
]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_rows_and_permissions():
    executor = _migrate(BEFORE_THE_MOVES)
    old = executor.loader.project_state(BEFORE_THE_MOVES).apps
    user = old.get_model("accounts", "User").objects.create(username="kept", email="kept@example.com")
    old.get_model("accounts", "NotificationPreferences").objects.create(user=user, push_notifications=False)
    old.get_model("accounts", "Notification").objects.create(user=user, title="Still here", created_at=timezone.now())
    old.get_model("telegram_bot", "VerificationRequest").objects.create(user=user, goated_name="KeptGoat")
    old.get_model("telegram_bot", "BotUser").objects.create(telegram_id=42)
    old.get_model("telegram_bot", "TelegramLinkToken").objects.create(
        user=user, nonce="kept-nonce", expires_at=timezone.now()
    )
    old.get_model("goatedvips", "AuditEntry").objects.create(action="kept.action", created_at=timezone.now())

    executor = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from accounts.models import TelegramLinkToken, VerificationRequest
    from core.models import AuditEntry
    from notifications.models import BotUser, Notification, NotificationPreferences

    assert Notification.objects.get().title == "Still here"
    assert NotificationPreferences.objects.get(user__username="kept").push_notifications is False
    assert VerificationRequest.objects.get().goated_name == "KeptGoat"
    assert BotUser.objects.get().telegram_id == 42
    assert TelegramLinkToken.objects.get().nonce == "kept-nonce"
    assert AuditEntry.objects.get().action == "kept.action"

    from django.contrib.auth.models import Group

    support = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Support").permissions.all()}
    assert "accounts.change_verificationrequest" in support
    assert not any(label.startswith("telegram_bot.") for label in support)
