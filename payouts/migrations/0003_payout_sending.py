"""A payout can be `sending`: a provider was asked to pay it with an idempotency key (`send_key`), and the answer
is not final yet (payouts.services.payouts_send).

SQLite rebuilds the table to change a check constraint; the pool triggers of payouts 0002 go with the old table
(or, for the one on races_wagerrace, stop the rename), so they are dropped first and written again afterwards.
PostgreSQL alters in place and keeps them.
"""

import importlib

from django.db import migrations, models

from core.migration_ops import sql_on

_POOL = importlib.import_module("payouts.migrations.0002_payout_source")


_drop = sql_on("sqlite", _POOL.SQLITE_BACKWARD)
_create = sql_on("sqlite", _POOL.SQLITE_FORWARD)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0002_payout_source")]

    operations = [
        migrations.RunPython(_drop, _create),
        migrations.RemoveConstraint(model_name="payout", name="payout_status_valid"),
        migrations.AddField(
            model_name="payout",
            name="send_key",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="payout",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("approved", "Approved"),
                    ("sending", "Sending"),
                    ("paid", "Paid"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="payout",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "approved", "sending", "paid", "failed", "cancelled"])),
                name="payout_status_valid",
            ),
        ),
        migrations.RunPython(_create, _drop),
    ]
