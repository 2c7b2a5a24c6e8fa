from django.apps import AppConfig

from races.signals import feed_synced


class GiveawaysConfig(AppConfig):
    name = "giveaways"
    verbose_name = "Raffles and overlays"

    def ready(self) -> None:
        from giveaways.services import raffles_refresh_after_sync  # models are ready only now

        # Wager raffles count tickets from each sync's data, inside the sync's own transaction.
        feed_synced.connect(raffles_refresh_after_sync, dispatch_uid="giveaways.feed-synced")
