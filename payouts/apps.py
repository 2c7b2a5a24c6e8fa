from django.apps import AppConfig

from races.signals import race_finalized


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Payouts"

    def ready(self) -> None:
        from payouts.services import payouts_create_for_race  # models are ready only now

        # A finalized race's prizes become pending payouts in the finalization's own transaction.
        race_finalized.connect(payouts_create_for_race, dispatch_uid="payouts.race-finalized")
