"""PostgreSQL: a trigram index for the leaderboard's name search (`name__icontains` is UPPER(name) LIKE '%q%',
which no B-tree can serve: 57 ms at 100,000 players in bench/pages.py). Other databases: nothing to do."""

from django.db import migrations

from core.migration_ops import sql_on

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS player_name_trgm ON races_player USING gin (UPPER(name) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS player_name_trgm"]


class Migration(migrations.Migration):
    dependencies = [("races", "0006_wagerrace_standings_total")]

    operations = [migrations.RunPython(sql_on("postgresql", FORWARD), sql_on("postgresql", BACKWARD))]
