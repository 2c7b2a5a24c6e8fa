"""Marketing is opt-in (0005 made it the default for new rows). Rows created with the old default by someone who
never saved their preferences afterwards (every toggle still on, unchanged since the account was made) are
switched off too: that "on" was never a choice. Rows a player saved keep their value."""

from datetime import timedelta

from django.db import migrations
from django.db.models import F

UNTOUCHED = timedelta(minutes=10)  # preferences are created with the account, in the same request


def untouched_marketing_off(apps, schema_editor):
    preferences = apps.get_model("notifications", "NotificationPreferences")
    preferences.objects.filter(
        promotional_offers=True,
        wager_race_updates=True,
        vip_status_changes=True,
        monthly_statements=True,
        email_notifications=True,
        push_notifications=True,
        updated_at__lte=F("user__date_joined") + UNTOUCHED,
    ).update(promotional_offers=False)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0005_promotional_offers_opt_in")]

    operations = [migrations.RunPython(untouched_marketing_off, migrations.RunPython.noop)]
