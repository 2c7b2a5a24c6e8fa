"""PostgreSQL: transformation logs and race progress samples become RANGE-partitioned by month (core.partitions,
docs/scaling.md): every row and id kept, a partition per month that has rows up to three months ahead, and a
DEFAULT partition as a safety net. The database's primary key becomes (id, <month column>); Django's pk stays `id`,
so the migration state does not change. Other databases: plain tables, nothing to do."""

from django.db import migrations
from django.utils import timezone

from core.partitions import table_partition, table_unpartition

TABLES = {"races_transformationlog": "created_at", "races_raceprogresssample": "taken_at"}
MONTHS_AHEAD = 3


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in TABLES.items():
            table_partition(schema_editor, table, column, months_ahead=MONTHS_AHEAD, now=timezone.now())


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            table_unpartition(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("races", "0012_player_name_display")]

    operations = [migrations.RunPython(partition, unpartition)]
