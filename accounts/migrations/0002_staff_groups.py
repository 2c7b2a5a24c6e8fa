"""The "Operators" and "Support" groups with least-privilege permissions.

Operators run the business (races, players, rewards, verification, users). Support answers tickets and
reviews verification claims; it can look at players and users but cannot edit races, codes or tiers.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATORS = {
    "races": {
        "player": ["view", "change"],
        "wagerrace": ["view", "add", "change", "delete"],
        "raceparticipant": ["view"],
        "raceresult": ["view"],
        "historicalrace": ["view"],
        "transformationlog": ["view", "change"],
    },
    "vip": {
        "viptier": ["view", "add", "change", "delete"],
        "bonuscode": ["view", "add", "change", "delete"],
        "bonuscodeclaim": ["view"],
        "wheelsegment": ["view", "add", "change", "delete"],
        "wheelspin": ["view"],
    },
    "accounts": {
        "user": ["view", "change"],
        "notificationpreferences": ["view"],
        "notification": ["view", "add"],
        "newslettersubscription": ["view", "change"],
    },
    "support": {"supportticket": ["view", "change"], "ticketmessage": ["view", "add"]},
    "telegram_bot": {"verificationrequest": ["view", "change"]},
}

SUPPORT = {
    "support": {"supportticket": ["view", "change"], "ticketmessage": ["view", "add"]},
    "telegram_bot": {"verificationrequest": ["view", "change"]},
    "accounts": {"user": ["view"]},
    "races": {"player": ["view"]},
}

GROUPS = {"Operators": OPERATORS, "Support": SUPPORT}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, spec in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = [
            (app_label, f"{action}_{model}")
            for app_label, models in spec.items()
            for model, actions in models.items()
            for action in actions
        ]
        perms = []
        for app_label, codename in codenames:
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("races", "0001_initial"),
        ("vip", "0002_seed_vip_tiers"),
        ("support", "0001_initial"),
        ("telegram_bot", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_groups, delete_groups)]
