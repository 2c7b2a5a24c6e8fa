"""Payout moves here from races, rows kept: the state as races left it; in the database the old pool triggers
(they name races_payout) are dropped, the table renamed to payouts_payout and its content type (permissions,
admin log) handed over. payouts.0002 adds the source and the triggers under the new name."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_table, sql_on

OLD_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS races_payout_within_pool_insert",
        "DROP TRIGGER IF EXISTS races_payout_within_pool_update",
        "DROP TRIGGER IF EXISTS races_pool_covers_payouts",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS races_pool_covers_payouts ON races_wagerrace",
        "DROP FUNCTION IF EXISTS races_pool_covers_payouts()",
        "DROP TRIGGER IF EXISTS races_payout_within_pool ON races_payout",
        "DROP FUNCTION IF EXISTS races_payout_within_pool()",
    ],
}


def _drop_old_triggers(apps, schema_editor):
    for vendor, statements in OLD_TRIGGERS.items():
        sql_on(vendor, statements)(apps, schema_editor)


def _old_triggers_back(apps, schema_editor):
    import importlib

    old = importlib.import_module("races.migrations.0003_payouts_adjustments_entry_rules_token")
    sql_on("sqlite", old.SQLITE_FORWARD)(apps, schema_editor)
    sql_on("postgresql", old.POSTGRES_FORWARD)(apps, schema_editor)


STATUS_CHOICES = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("paid", "Paid"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("races", "0010_payout_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Payout",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                        (
                            "method",
                            models.CharField(
                                default="manual", help_text="The payout provider that pays it.", max_length=32
                            ),
                        ),
                        (
                            "destination",
                            models.CharField(help_text="The Goated username the prize goes to.", max_length=64),
                        ),
                        (
                            "status",
                            models.CharField(choices=STATUS_CHOICES, db_index=True, default="pending", max_length=16),
                        ),
                        (
                            "reference",
                            models.CharField(
                                blank=True, help_text="The provider's or the operator's reference.", max_length=128
                            ),
                        ),
                        (
                            "note",
                            models.CharField(blank=True, help_text="Why it failed or was cancelled.", max_length=500),
                        ),
                        ("approved_at", models.DateTimeField(blank=True, null=True)),
                        ("paid_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "approved_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "paid_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "player",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT, related_name="payouts", to="races.player"
                            ),
                        ),
                        (
                            "race",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="payouts",
                                to="races.wagerrace",
                            ),
                        ),
                        (
                            "result",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="payout",
                                to="races.raceresult",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "race", "result__rank"],
                        "indexes": [models.Index(fields=["status", "race"], name="payout_status_race")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("amount__gt", 0)), name="payout_amount_positive"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("status__in", ["pending", "approved", "paid", "failed", "cancelled"])
                                ),
                                name="payout_status_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("status", "paid"), _negated=True),
                                    models.Q(models.Q(("reference", ""), _negated=True), ("paid_at__isnull", False)),
                                    _connector="OR",
                                ),
                                name="payout_paid_has_reference",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[
                migrations.RunPython(_drop_old_triggers, _old_triggers_back),
                move_table("races", "payouts", "payout"),
            ],
        ),
    ]
