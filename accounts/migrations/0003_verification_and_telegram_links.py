"""Telegram link tokens and verification requests move here from telegram_bot (rows kept); notification
preferences and notifications move out to the notifications app (renamed there)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_table


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_groups"),
        ("races", "0002_race_progress_samples"),
        ("telegram_bot", "0003_models_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="notificationpreferences",
                    name="user",
                ),
                migrations.CreateModel(
                    name="TelegramLinkToken",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("nonce", models.CharField(max_length=16, unique=True)),
                        ("expires_at", models.DateTimeField()),
                        ("used_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="telegram_link_tokens",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="VerificationRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("telegram_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ("telegram_username", models.CharField(blank=True, max_length=32)),
                        (
                            "goated_name",
                            models.CharField(help_text="The Goated player name the user claims to own.", max_length=64),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[("telegram", "Telegram bot"), ("site", "Website")],
                                default="telegram",
                                max_length=16,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected")],
                                db_index=True,
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("admin_notes", models.TextField(blank=True)),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "decided_by",
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
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="verification_requests",
                                to="races.player",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="verification_requests",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-requested_at"],
                    },
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="NotificationPreferences",
                ),
                migrations.AddConstraint(
                    model_name="verificationrequest",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("status__in", ["pending", "approved", "rejected"])),
                        name="verification_status_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="verificationrequest",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("user__isnull", False), ("telegram_id__isnull", False), _connector="OR"),
                        name="verification_has_requester",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="verificationrequest",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("user",),
                        name="verification_one_pending_per_user",
                        violation_error_message="You already have a verification request waiting for review.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="verificationrequest",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("telegram_id",),
                        name="verification_one_pending_per_telegram",
                        violation_error_message="You already have a verification request waiting for review.",
                    ),
                ),
            ],
            database_operations=[
                move_table("telegram_bot", "accounts", "telegramlinktoken"),
                move_table("telegram_bot", "accounts", "verificationrequest"),
            ],
        ),
    ]
