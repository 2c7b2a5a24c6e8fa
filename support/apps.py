from django.apps import AppConfig
from django.db.models.signals import post_delete

from accounts.signals import account_erased


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from support import receivers  # models are loaded by now

        # An erased account's ticket text goes with it (accounts.erasure).
        account_erased.connect(receivers.account_erased, dispatch_uid="support.account-erased")

        # A deleted ticket leaves everyone's reach: its open thread sockets check again (and close).
        post_delete.connect(
            receivers.ticket_deleted, sender=self.get_model("SupportTicket"), dispatch_uid="support.ticket-deleted"
        )
