"""The newsletter list moved to notifications (which owns consent to messages); the table is renamed there."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_sessions_epoch")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="NewsletterSubscription",
                ),
            ],
            database_operations=[],
        ),
    ]
