"""The newsletter list moves here from accounts (rows kept)."""

import django.utils.timezone
from django.db import migrations, models

from core.migration_ops import move_table


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_broadcasts_and_email"),
        ("accounts", "0005_newsletter_moved_to_notifications"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="NewsletterSubscription",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("email", models.EmailField(max_length=254, unique=True)),
                        ("is_subscribed", models.BooleanField(default=True)),
                        ("subscribed_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                        ("source", models.CharField(blank=True, max_length=32)),
                    ],
                    options={
                        "ordering": ["-subscribed_at"],
                    },
                ),
            ],
            database_operations=[move_table("accounts", "notifications", "newslettersubscription")],
        ),
    ]
