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


BEFORE_THE_PAYOUTS_MOVE = [("races", "0009_player_ranks_table")]


@pytest.mark.django_db(transaction=True)
def test_payouts_moved_to_their_app_keep_their_rows_permissions_and_pool_rule():
    from decimal import Decimal

    executor = _migrate(BEFORE_THE_PAYOUTS_MOVE)
    old = executor.loader.project_state(BEFORE_THE_PAYOUTS_MOVE).apps
    now = timezone.now()
    player = old.get_model("races", "Player").objects.create(uid="kept-uid-0000000001", name="KeptGoat")
    race = old.get_model("races", "WagerRace").objects.create(
        title="Kept race", type="custom", status="completed", prize_pool=Decimal("100"), start_date=now,
        end_date=now + timezone.timedelta(days=1), prize_distribution={"1": 60},
    )  # fmt: skip
    result = old.get_model("races", "RaceResult").objects.create(
        race=race, player=player, rank=1, name="KeptGoat", uid=player.uid, wagered=Decimal("5000"), prize=Decimal("60")
    )
    old.get_model("races", "Payout").objects.create(
        result=result, race=race, player=player, amount=Decimal("60"), destination="KeptGoat", status="approved"
    )

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from django.contrib.auth.models import Group
    from django.db import IntegrityError, transaction

    from payouts.models import Payout

    kept = Payout.objects.get()
    assert (kept.source, kept.result_id, kept.race_id, kept.amount, kept.status) == (
        "race",
        result.pk,
        race.pk,
        Decimal("60.00"),
        "approved",
    )
    operators = {
        f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Operators").permissions.all()
    }
    assert {"payouts.view_payout", "payouts.change_payout"} <= operators
    assert not any(label.startswith("races.") and label.endswith("_payout") for label in operators)
    # The pool rule holds under the new table name: 60 + 41 > 100 is refused, and so is a pool below 60.
    from races.models import Player, RaceResult, WagerRace

    runner_up = Player.objects.create(uid="kept-uid-0000000002", name="RunnerUp")
    second = RaceResult.objects.create(race_id=race.pk, player=runner_up, rank=2, name="RunnerUp", uid=runner_up.uid,
                                       wagered=Decimal("1"), prize=Decimal("41"))  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(result=second, race_id=race.pk, player=runner_up, amount=Decimal("41"),
                              destination="RunnerUp")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        WagerRace.objects.filter(pk=race.pk).update(prize_pool=Decimal("59"))
