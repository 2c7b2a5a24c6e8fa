from django.apps import AppConfig
from django.db.models.signals import post_migrate


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


def _sync_roles_once(sender, app_config=None, **kwargs) -> None:
    from django.apps import apps

    from core.roles import roles_sync

    # post_migrate fires once per app that has models; sync after the last one, when every permission exists.
    with_models = [config.label for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is not None and app_config.label == with_models[-1]:
        roles_sync()
