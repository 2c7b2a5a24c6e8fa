from django.apps import AppConfig


class GoatedVipsConfig(AppConfig):
    """The site layer as an app: site-wide management commands (serve, seed_demo), templates, the dashboard tag."""

    name = "goatedvips"
    verbose_name = "GoatedVIPs"
