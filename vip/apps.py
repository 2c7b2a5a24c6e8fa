from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class VipConfig(AppConfig):
    name = "vip"
    verbose_name = "VIP & rewards"

    def ready(self) -> None:
        from vip.models import VipTier

        # Leaderboard rows carry each player's tier: a tier edit must not leave stale badges in the cache.
        post_save.connect(_tiers_changed, sender=VipTier, dispatch_uid="vip-tier-saved")
        post_delete.connect(_tiers_changed, sender=VipTier, dispatch_uid="vip-tier-deleted")


def _tiers_changed(**kwargs) -> None:
    from django.db import transaction

    from races.leaderboard import leaderboard_cache_clear

    transaction.on_commit(leaderboard_cache_clear)
