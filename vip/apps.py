from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class VipConfig(AppConfig):
    name = "vip"
    verbose_name = "VIP & rewards"

    def ready(self) -> None:
        from vip.selectors import tiers_cache_clear

        # The ladder is cached for every page that shows a tier: an operator's edit shows at once.
        post_save.connect(tiers_cache_clear, sender="vip.VipTier", dispatch_uid="vip.tiers-saved")
        post_delete.connect(tiers_cache_clear, sender="vip.VipTier", dispatch_uid="vip.tiers-deleted")
