from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in

from accounts.signals import account_erased, goated_claim_sent, player_linked


class GrowthConfig(AppConfig):
    name = "growth"
    verbose_name = "Growth"

    def ready(self) -> None:
        from growth import attribution  # models are loaded by now

        # A click remembered by /go/'s cookie becomes the account's at sign-in; a linked player is credited to it.
        user_logged_in.connect(attribution.user_signed_in, dispatch_uid="growth.user-signed-in")
        # ...and when a signed-in person asks to link a player on the site (a click made while signed in).
        goated_claim_sent.connect(attribution.user_signed_in, dispatch_uid="growth.goated-claim")
        player_linked.connect(attribution.player_linked_received, dispatch_uid="growth.player-linked")
        # An erased account forgets which campaign link it clicked (accounts/erasure.py: ROWS_DELETED).
        account_erased.connect(attribution.account_erased_received, dispatch_uid="growth.account-erased")
