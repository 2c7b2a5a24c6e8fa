from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

from notifications.audiences import AudienceSource, audience_source_register


class VipConfig(AppConfig):
    name = "vip"
    verbose_name = "VIP & rewards"

    def ready(self) -> None:
        from vip.models import VipTier
        from vip.selectors import players_reaching_q, tiers_cache_clear

        # Broadcasts "to a tier and above" mean the tier rule's players (notifications cannot import it).
        audience_source_register("tier", AudienceSource(
            choices=lambda: VipTier.objects.order_by("min_wager"),
            users=lambda users, tier: users.filter(players_reaching_q(tier, "player__wager_all_time")),
        ))  # fmt: skip

        # The ladder is cached for every page that shows a tier: an operator's edit shows at once.
        post_save.connect(tiers_cache_clear, sender="vip.VipTier", dispatch_uid="vip.tiers-saved")
        post_delete.connect(tiers_cache_clear, sender="vip.VipTier", dispatch_uid="vip.tiers-deleted")
