from django.apps import AppConfig


class OverlaysConfig(AppConfig):
    name = "overlays"
    verbose_name = "Stream overlays"
