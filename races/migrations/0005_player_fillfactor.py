"""PostgreSQL: leave room in every Player page so a sync that only moves ranks updates rows in place (HOT).

Ranks are not indexed; with free space on the page PostgreSQL rewrites such a row without touching the six
indexes of the table (docs/performance.md, "Feed sync"). Other databases: nothing to do.
"""

from django.db import migrations

from core.migration_ops import sql_on


def set_fillfactor(value: int):
    return sql_on("postgresql", [f"ALTER TABLE races_player SET (fillfactor = {int(value)})"])


class Migration(migrations.Migration):
    dependencies = [("races", "0004_wager_days")]

    operations = [migrations.RunPython(set_fillfactor(70), set_fillfactor(100))]
