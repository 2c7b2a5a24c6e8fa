"""Payouts moved to an app of their own (payouts.0001 renames the table and keeps every row)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("races", "0009_player_ranks_table")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Payout")]),
    ]
