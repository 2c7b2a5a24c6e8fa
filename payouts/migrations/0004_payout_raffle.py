"""A payout's source may be a raffle winner (`raffle_winner`, and its `raffle`, whose pool bounds it).

The payouts of one raffle never add up to more than its prize pool (cancelled ones do not count), checked by the
database on every write of a payout and every lowering of a raffle's pool, as payouts 0002 does for races. SQLite
rebuilds the table to change the check constraint: the race triggers go first and come back afterwards (payouts
0003 does the same).
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import sql_on

_RACE_POOL = importlib.import_module("payouts.migrations.0002_payout_source")

_SUM = "(SELECT COALESCE(SUM(amount), 0) FROM payouts_payout WHERE raffle_id = {raffle} AND status <> 'cancelled')"
_POOL = "(SELECT prize_pool FROM giveaways_raffle WHERE id = {raffle})"
_OVER = f"NEW.raffle_id IS NOT NULL AND {_SUM.format(raffle='NEW.raffle_id')} > {_POOL.format(raffle='NEW.raffle_id')} + 0.001"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER payouts_raffle_pool_insert AFTER INSERT ON payouts_payout WHEN {_OVER}
        BEGIN SELECT RAISE(ABORT, 'payouts_within_raffle_pool: the payouts would exceed the prize pool'); END""",
    f"""CREATE TRIGGER payouts_raffle_pool_update AFTER UPDATE OF amount, status, raffle_id ON payouts_payout
        WHEN {_OVER}
        BEGIN SELECT RAISE(ABORT, 'payouts_within_raffle_pool: the payouts would exceed the prize pool'); END""",
    f"""CREATE TRIGGER payouts_raffle_pool_covers BEFORE UPDATE OF prize_pool ON giveaways_raffle
        WHEN {_SUM.format(raffle="NEW.id")} > NEW.prize_pool + 0.001
        BEGIN SELECT RAISE(ABORT, 'payouts_raffle_pool_covers: the pool would be less than its payouts'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_raffle_pool_insert",
    "DROP TRIGGER IF EXISTS payouts_raffle_pool_update",
    "DROP TRIGGER IF EXISTS payouts_raffle_pool_covers",
]
POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION payouts_within_raffle_pool() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE pool numeric; total numeric;
    BEGIN
        IF NEW.raffle_id IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT prize_pool INTO pool FROM giveaways_raffle WHERE id = NEW.raffle_id FOR UPDATE;
        SELECT COALESCE(SUM(amount), 0) INTO total FROM payouts_payout
            WHERE raffle_id = NEW.raffle_id AND status <> 'cancelled';
        IF total > pool THEN
            RAISE EXCEPTION 'payouts_within_raffle_pool: the payouts of raffle % would exceed its prize pool (% > %)',
                NEW.raffle_id, total, pool USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER payouts_within_raffle_pool AFTER INSERT OR UPDATE OF amount, status, raffle_id
        ON payouts_payout FOR EACH ROW EXECUTE FUNCTION payouts_within_raffle_pool()""",
    """CREATE OR REPLACE FUNCTION payouts_raffle_pool_covers() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM payouts_payout
            WHERE raffle_id = NEW.id AND status <> 'cancelled';
        IF total > NEW.prize_pool THEN
            RAISE EXCEPTION 'payouts_raffle_pool_covers: raffle % has % in payouts, more than a pool of %',
                NEW.id, total, NEW.prize_pool USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER payouts_raffle_pool_covers BEFORE UPDATE OF prize_pool ON giveaways_raffle
        FOR EACH ROW WHEN (NEW.prize_pool < OLD.prize_pool) EXECUTE FUNCTION payouts_raffle_pool_covers()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_raffle_pool_covers ON giveaways_raffle",
    "DROP FUNCTION IF EXISTS payouts_raffle_pool_covers()",
    "DROP TRIGGER IF EXISTS payouts_within_raffle_pool ON payouts_payout",
    "DROP FUNCTION IF EXISTS payouts_within_raffle_pool()",
]


def _run(*steps):
    def run(apps, schema_editor):
        for step in steps:
            step(apps, schema_editor)

    return run


# SQLite: the race triggers leave before the table is rebuilt and come back after it, with the raffle ones.
_race_drop = sql_on("sqlite", _RACE_POOL.SQLITE_BACKWARD)
_race_create = sql_on("sqlite", _RACE_POOL.SQLITE_FORWARD)
_raffle_create = _run(sql_on("sqlite", SQLITE_FORWARD), sql_on("postgresql", POSTGRES_FORWARD))
_raffle_drop = _run(sql_on("sqlite", SQLITE_BACKWARD), sql_on("postgresql", POSTGRES_BACKWARD))


class Migration(migrations.Migration):
    dependencies = [
        ("giveaways", "0001_initial"),
        ("payouts", "0003_payout_sending"),
        ("races", "0011_adjustment_review"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_race_drop, _race_create),
        migrations.RemoveConstraint(
            model_name="payout",
            name="payout_source_complete",
        ),
        migrations.AddField(
            model_name="payout",
            name="raffle",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payouts",
                to="giveaways.raffle",
            ),
        ),
        migrations.AddField(
            model_name="payout",
            name="raffle_winner",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payout",
                to="giveaways.rafflewinner",
            ),
        ),
        migrations.AlterField(
            model_name="payout",
            name="source",
            field=models.CharField(
                choices=[("race", "Race prize"), ("raffle", "Raffle prize")], default="race", max_length=16
            ),
        ),
        migrations.AddConstraint(
            model_name="payout",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("race__isnull", False), ("raffle__isnull", True), ("result__isnull", False), ("source", "race")
                    ),
                    models.Q(
                        ("race__isnull", True),
                        ("raffle__isnull", False),
                        ("raffle_winner__isnull", False),
                        ("source", "raffle"),
                    ),
                    _connector="OR",
                ),
                name="payout_source_complete",
            ),
        ),
        migrations.RunPython(_run(_race_create, _raffle_create), _run(_raffle_drop, _race_drop)),
    ]
