from django.apps import AppConfig
from django.db.models.signals import post_migrate
from waffle import apps as waffle_apps


class CoreConfig(AppConfig):
    """Shared helpers every app builds on (errors, audit log, realtime, roles, money); imports no feature app."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # After every migrate (permissions of new models exist by then): groups = core.roles.ROLES.
        post_migrate.connect(_sync_roles_once, dispatch_uid="core.roles_sync")
        from core.logs import task_request_id_connect
        from core.tasks import task_metrics_connect

        task_metrics_connect()
        task_request_id_connect()
        from core.db_router import task_primary_connect

        task_primary_connect()


class FeatureSwitchesConfig(waffle_apps.WaffleConfig):
    """django-waffle under the name operators know it by (admin shows "Feature switches", not "DJANGO-WAFFLE"):
    settings lists this config instead of "waffle"; the app label, tables and URLs stay waffle's."""

    # Not a candidate for "core" itself: Django picks an app's config among the AppConfig classes of its apps.py,
    # and with two candidates and no default it would fall back to a bare AppConfig (no CoreConfig.ready()).
    default = False
    verbose_name = "Feature switches"


def _sync_roles_once(sender, app_config=None, **kwargs) -> None:
    from django.apps import apps

    from core.roles import roles_sync

    # post_migrate fires once per app that has models; sync after the last one, when every permission exists.
    with_models = [config.label for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is not None and app_config.label == with_models[-1]:
        roles_sync()
