from django.apps import AppConfig

from goatedvips.roles import roles_sync


class GoatedVipsConfig(AppConfig):
    """The project package as an app: site-wide management commands (serve, seed_demo) and templates."""

    name = "goatedvips"
    verbose_name = "GoatedVIPs"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # After every migrate (permissions of new models exist by then): groups = goatedvips.roles.ROLES.
        post_migrate.connect(_sync_roles_once, dispatch_uid="goatedvips.roles_sync")


def _sync_roles_once(sender, app_config=None, **kwargs) -> None:
    # post_migrate fires once per app; sync after the last one (ours is listed before the domain apps).
    from django.apps import apps

    if app_config is not None and app_config.label == list(apps.get_app_configs())[-1].label:
        roles_sync()
