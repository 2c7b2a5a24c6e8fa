from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from core.metrics import data_collector_add


class RacesConfig(AppConfig):
    name = "races"
    verbose_name = "Races & leaderboard"

    def ready(self) -> None:
        from races import checks  # noqa: F401 (registers the system checks)
        from races.feed.metrics import FeedGauges

        data_collector_add(FeedGauges())

        # Leaderboard rows carry each player's tier: a tier edit must not leave stale badges in the cache.
        post_save.connect(_tiers_changed, sender="vip.VipTier", dispatch_uid="races.vip-tier-saved")
        post_delete.connect(_tiers_changed, sender="vip.VipTier", dispatch_uid="races.vip-tier-deleted")


def _tiers_changed(**kwargs) -> None:
    from races.feed.leaderboard import leaderboard_cache_clear  # this module loads before the models

    transaction.on_commit(leaderboard_cache_clear)
