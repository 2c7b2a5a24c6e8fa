from django.apps import AppConfig
from django.db.models.signals import pre_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Every way a password changes (reset link, settings, admin, `changepassword`) passes through a save:
        # that is where API tokens are withdrawn, whatever path changed it.
        pre_save.connect(_password_changed, sender=self.get_model("User"), dispatch_uid="accounts.password-changed")
        from accounts import receivers  # models are loaded by now

        # Open sockets follow the rights behind them: a right that ends closes or re-checks them.
        receivers.connect(self.get_model("User"))


def _password_changed(sender, instance, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    from accounts.services import user_credentials_changed  # services import models: load them lazily here

    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        user_credentials_changed(instance)
