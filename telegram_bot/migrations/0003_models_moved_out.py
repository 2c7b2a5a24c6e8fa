"""The bot keeps no models: link tokens and verification requests moved to accounts, bot users to
notifications. State only here; the tables are renamed by accounts.0003 and notifications.0001."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("telegram_bot", "0002_link_tokens_and_bot_users"),
        # After the staff groups got their permissions on these models (they follow the content types).
        ("accounts", "0002_staff_groups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="BotUser",
                ),
                migrations.RemoveField(
                    model_name="verificationrequest",
                    name="decided_by",
                ),
                migrations.RemoveField(
                    model_name="verificationrequest",
                    name="player",
                ),
                migrations.RemoveField(
                    model_name="verificationrequest",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="TelegramLinkToken",
                ),
                migrations.DeleteModel(
                    name="VerificationRequest",
                ),
            ],
            database_operations=[],
        ),
    ]
