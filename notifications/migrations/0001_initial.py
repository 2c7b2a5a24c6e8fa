"""Notification preferences and notifications (from accounts) and bot users (from telegram_bot) move here,
rows kept."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_table


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0003_verification_and_telegram_links"),
        ("telegram_bot", "0003_models_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BotUser",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("telegram_id", models.BigIntegerField(unique=True)),
                        ("username", models.CharField(blank=True, max_length=32)),
                        ("first_name", models.CharField(blank=True, max_length=64)),
                        (
                            "blocked_at",
                            models.DateTimeField(
                                blank=True, help_text="Set when Telegram says the user blocked us.", null=True
                            ),
                        ),
                        ("first_seen", models.DateTimeField(default=django.utils.timezone.now)),
                        ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "ordering": ["-last_seen"],
                    },
                ),
                migrations.CreateModel(
                    name="NotificationPreferences",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("wager_race_updates", models.BooleanField(default=True)),
                        ("vip_status_changes", models.BooleanField(default=True)),
                        ("promotional_offers", models.BooleanField(default=True)),
                        ("monthly_statements", models.BooleanField(default=True)),
                        ("email_notifications", models.BooleanField(default=True)),
                        (
                            "push_notifications",
                            models.BooleanField(default=True, help_text="Telegram and in-site push messages."),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notification_preferences",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification preferences",
                        "verbose_name_plural": "notification preferences",
                    },
                ),
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("race", "Race"),
                                    ("support", "Support"),
                                    ("verification", "Verification"),
                                    ("reward", "Reward"),
                                    ("system", "System"),
                                ],
                                default="system",
                                max_length=16,
                            ),
                        ),
                        ("title", models.CharField(max_length=120)),
                        ("body", models.TextField(blank=True)),
                        ("url", models.CharField(blank=True, max_length=200)),
                        ("dedupe_key", models.CharField(blank=True, max_length=100)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("dedupe_key", ""), _negated=True),
                                fields=("user", "dedupe_key"),
                                name="notification_dedupe_unique",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[
                move_table("telegram_bot", "notifications", "botuser"),
                move_table("accounts", "notifications", "notificationpreferences"),
                move_table("accounts", "notifications", "notification"),
            ],
        ),
    ]
