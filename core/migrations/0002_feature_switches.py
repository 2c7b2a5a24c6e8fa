"""The feature switches of core.features, with their defaults (operators turn them on and off in admin)."""

from django.db import migrations

SWITCHES = [
    ("wheel", True, "The daily wheel (/wheel/ and its API)."),
    ("bonus_codes", True, "Bonus codes (/bonus-codes/ and the API)."),
    ("newsletter", True, "The newsletter sign-up form."),
    ("signups", True, "New accounts (/accounts/register/)."),
    ("maintenance_banner", False, "Planned maintenance tonight 22:00-23:00 UTC: the site may be slow."),
]


def create(apps, schema_editor):
    Switch = apps.get_model("waffle", "Switch")
    for name, active, note in SWITCHES:
        Switch.objects.get_or_create(name=name, defaults={"active": active, "note": note})


def remove(apps, schema_editor):
    apps.get_model("waffle", "Switch").objects.filter(name__in=[s[0] for s in SWITCHES]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("waffle", "0004_update_everyone_nullbooleanfield")]
    operations = [migrations.RunPython(create, remove)]
