"""The audit log moved to core (see core/migrations/0001_initial.py, which renames the table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("goatedvips", "0001_audit_log")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel("AuditEntry")], database_operations=[]
        )
    ]
