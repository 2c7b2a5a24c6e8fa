"""The Celery app. In embedded mode (no REDIS_URL) tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goatedvips.settings")

# DjangoTask adds delay_on_commit/apply_async_on_commit: tasks are only sent once the data they need is committed.
app = Celery("goatedvips", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
