from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from core.metrics import data_collector_add
from notifications.audiences import AudienceSource, audience_source_register


class RacesConfig(AppConfig):
    name = "races"
    verbose_name = "Races & leaderboard"

    def ready(self) -> None:
        from races import checks  # noqa: F401 (registers the system checks)
        from races.feed.metrics import FeedGauges
        from races.models import WagerRace

        data_collector_add(FeedGauges())

        # Broadcasts "to a race's participants" mean its ranked players (one participant row per player and race).
        audience_source_register("race", AudienceSource(
            choices=lambda: WagerRace.objects.order_by("-start_date"),
            users=lambda users, race: users.filter(player__race_entries__race=race,
                                                   player__race_entries__rank__isnull=False),
        ))  # fmt: skip

        # Leaderboard rows carry each player's tier: a tier edit must not leave stale badges in the cache.
        post_save.connect(_tiers_changed, sender="vip.VipTier", dispatch_uid="races.vip-tier-saved")
        post_delete.connect(_tiers_changed, sender="vip.VipTier", dispatch_uid="races.vip-tier-deleted")


def _tiers_changed(**kwargs) -> None:
    from races.feed.leaderboard import leaderboard_cache_clear  # this module loads before the models

    transaction.on_commit(leaderboard_cache_clear)
