"""Moving a model from one app to another without losing its rows.

A move is two migrations: the old app drops the model from its *state* only, then the new app adds it to its
state and, in the database, renames the table and hands the content type (and so every permission and admin
log entry pointing at it) to the new app. On a fresh database the same steps run after the old app created
the table, so every database ends in the same place.
"""

from __future__ import annotations

from django.db import migrations


def move_table(old_app: str, new_app: str, model: str) -> migrations.RunPython:
    """The database half of a move: rename `<old_app>_<model>` to `<new_app>_<model>`, re-label the content type."""
    old_table, new_table = f"{old_app}_{model}", f"{new_app}_{model}"

    def rename(schema_editor, source: str, target: str) -> None:
        schema_editor.execute(
            schema_editor.sql_rename_table
            % {"old_table": schema_editor.quote_name(source), "new_table": schema_editor.quote_name(target)}
        )

    def relabel(apps, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)

    def forwards(apps, schema_editor):
        rename(schema_editor, old_table, new_table)
        relabel(apps, old_app, new_app)

    def backwards(apps, schema_editor):
        rename(schema_editor, new_table, old_table)
        relabel(apps, new_app, old_app)

    return migrations.RunPython(forwards, backwards)


def sql_on(vendor: str, statements: list[str]):
    """A RunPython function that runs `statements` on one database vendor ("postgresql", "sqlite") only: for
    what the model layer cannot say (triggers, storage parameters, extension indexes)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == vendor:
            for sql in statements:
                schema_editor.execute(sql, params=None)  # raw SQL: a % (in a PL/pgSQL body) is not a placeholder

    return run
