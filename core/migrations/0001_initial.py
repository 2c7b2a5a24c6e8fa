"""The audit log moves from the site package to core (rows, table and permissions kept)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_table


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("goatedvips", "0002_auditentry_moved_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("actor_label", models.CharField(blank=True, max_length=150)),
                        (
                            "action",
                            models.CharField(
                                db_index=True, help_text="e.g. race.finalize, verification.approve", max_length=64
                            ),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("admin", "Admin"),
                                    ("service", "Service"),
                                    ("bot", "Telegram bot"),
                                    ("api", "API"),
                                    ("system", "System"),
                                ],
                                default="service",
                                max_length=16,
                            ),
                        ),
                        (
                            "target_type",
                            models.CharField(blank=True, db_index=True, help_text="app_label.model", max_length=100),
                        ),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("target_repr", models.CharField(blank=True, max_length=200)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        ("note", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_entries",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit entry",
                        "verbose_name_plural": "audit log",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target")
                        ],
                    },
                ),
            ],
            database_operations=[move_table("goatedvips", "core", "auditentry")],
        ),
    ]
