"""Platinum and Pearl were two near-identical light greys beside Silver: give them colours one can tell apart
(only where an operator has not chosen another colour already)."""

from django.db import migrations

CHANGES = [("platinum", "#E5E4E2", "#9DB4D3"), ("pearl", "#F0EAD6", "#F2B8D0")]


def forward(apps, schema_editor):
    VipTier = apps.get_model("vip", "VipTier")
    for slug, old, new in CHANGES:
        VipTier.objects.filter(slug=slug, color=old).update(color=new)


def backward(apps, schema_editor):
    VipTier = apps.get_model("vip", "VipTier")
    for slug, old, new in CHANGES:
        VipTier.objects.filter(slug=slug, color=new).update(color=old)


class Migration(migrations.Migration):
    dependencies = [("vip", "0005_vip_tier_names")]
    operations = [migrations.RunPython(forward, backward)]
