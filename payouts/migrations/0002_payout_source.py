"""A payout has a source (a race prize today; a raffle winner later) instead of requiring a race result, and the
pool rule is kept per source by triggers under this app's table name.

The payouts of one race never add up to more than its prize pool (cancelled ones do not count), checked by the
database on every write of a payout and every lowering of a pool. SQLite compares decimals as floats: a tenth of a
cent of slack keeps 33.33 + 33.33 + 33.34 within a pool of 100. On PostgreSQL the race row is locked first, so two
payouts written at once are checked one after the other.
"""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import sql_on

_SQLITE_SUM = "(SELECT COALESCE(SUM(amount), 0) FROM payouts_payout WHERE race_id = {race} AND status <> 'cancelled')"
_SQLITE_POOL = "(SELECT prize_pool FROM races_wagerrace WHERE id = {race})"
_SQLITE_OVER = f"NEW.race_id IS NOT NULL AND {_SQLITE_SUM.format(race='NEW.race_id')} > {_SQLITE_POOL.format(race='NEW.race_id')} + 0.001"
SQLITE_FORWARD = [
    f"""CREATE TRIGGER payouts_race_pool_insert AFTER INSERT ON payouts_payout WHEN {_SQLITE_OVER}
        BEGIN SELECT RAISE(ABORT, 'payouts_within_pool: the payouts would exceed the prize pool'); END""",
    f"""CREATE TRIGGER payouts_race_pool_update AFTER UPDATE OF amount, status, race_id ON payouts_payout
        WHEN {_SQLITE_OVER}
        BEGIN SELECT RAISE(ABORT, 'payouts_within_pool: the payouts would exceed the prize pool'); END""",
    f"""CREATE TRIGGER payouts_race_pool_covers BEFORE UPDATE OF prize_pool ON races_wagerrace
        WHEN {_SQLITE_SUM.format(race="NEW.id")} > NEW.prize_pool + 0.001
        BEGIN SELECT RAISE(ABORT, 'payouts_pool_covers: the pool would be less than its payouts'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_race_pool_insert",
    "DROP TRIGGER IF EXISTS payouts_race_pool_update",
    "DROP TRIGGER IF EXISTS payouts_race_pool_covers",
]
POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION payouts_within_pool() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE pool numeric; total numeric;
    BEGIN
        IF NEW.race_id IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT prize_pool INTO pool FROM races_wagerrace WHERE id = NEW.race_id FOR UPDATE;
        SELECT COALESCE(SUM(amount), 0) INTO total FROM payouts_payout
            WHERE race_id = NEW.race_id AND status <> 'cancelled';
        IF total > pool THEN
            RAISE EXCEPTION 'payouts_within_pool: the payouts of race % would exceed its prize pool (% > %)',
                NEW.race_id, total, pool USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER payouts_within_pool AFTER INSERT OR UPDATE OF amount, status, race_id ON payouts_payout
        FOR EACH ROW EXECUTE FUNCTION payouts_within_pool()""",
    """CREATE OR REPLACE FUNCTION payouts_pool_covers() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM payouts_payout
            WHERE race_id = NEW.id AND status <> 'cancelled';
        IF total > NEW.prize_pool THEN
            RAISE EXCEPTION 'payouts_pool_covers: race % has % in payouts, more than a pool of %',
                NEW.id, total, NEW.prize_pool USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER payouts_pool_covers BEFORE UPDATE OF prize_pool ON races_wagerrace
        FOR EACH ROW WHEN (NEW.prize_pool < OLD.prize_pool) EXECUTE FUNCTION payouts_pool_covers()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS payouts_pool_covers ON races_wagerrace",
    "DROP FUNCTION IF EXISTS payouts_pool_covers()",
    "DROP TRIGGER IF EXISTS payouts_within_pool ON payouts_payout",
    "DROP FUNCTION IF EXISTS payouts_within_pool()",
]


def _triggers(statements: dict):
    def run(apps, schema_editor):
        for vendor, sql in statements.items():
            sql_on(vendor, sql)(apps, schema_editor)

    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial"), ("races", "0010_payout_moved_out")]

    operations = [
        migrations.AddField(
            model_name="payout",
            name="source",
            field=models.CharField(choices=[("race", "Race prize")], default="race", max_length=16),
        ),
        migrations.AlterField(
            model_name="payout",
            name="race",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payouts",
                to="races.wagerrace",
            ),
        ),
        migrations.AlterField(
            model_name="payout",
            name="result",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payout",
                to="races.raceresult",
            ),
        ),
        migrations.AddConstraint(
            model_name="payout",
            constraint=models.CheckConstraint(
                condition=models.Q(("race__isnull", False), ("result__isnull", False), ("source", "race")),
                name="payout_source_complete",
            ),
        ),
        migrations.RunPython(
            _triggers({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _triggers({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
