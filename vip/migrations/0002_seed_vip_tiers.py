"""The VIP ladder of docs/design.md §5, by all-time wager. Operators may edit it afterwards in admin."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    ("Copper", "copper", "0", "#B87333", ["Access to wager races", "Daily wheel spin"]),
    ("Bronze", "bronze", "10000", "#CD7F32", ["Rakeback", "Level-up bonus", "Weekly bonus"]),
    ("Silver", "silver", "40000", "#C0C0C0", ["Monthly bonus", "Bonus increase"]),
    ("Gold", "gold", "100000", "#FFD700", ["Referral increase", "Loss-back"]),
    ("Platinum", "platinum", "450000", "#E5E4E2", ["Higher loss-back", "Priority support"]),
    ("Pearl", "pearl", "1500000", "#F0EAD6", ["Bigger monthly bonus"]),
    ("Sapphire", "sapphire", "3000000", "#0F52BA", ["Dedicated VIP host"]),
    ("Emerald", "emerald", "7000000", "#50C878", ["Event invitations"]),
    ("Diamond", "diamond", "20000000", "#B9F2FF", ["Tailored rewards"]),
]


def seed(apps, schema_editor):
    VipTier = apps.get_model("vip", "VipTier")
    for name, slug, min_wager, color, perks in TIERS:
        VipTier.objects.update_or_create(
            slug=slug, defaults={"name": name, "min_wager": Decimal(min_wager), "color": color, "perks": perks}
        )


def unseed(apps, schema_editor):
    apps.get_model("vip", "VipTier").objects.filter(slug__in=[t[1] for t in TIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("vip", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
