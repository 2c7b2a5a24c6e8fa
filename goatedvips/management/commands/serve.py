"""Serve the whole site from one process (embedded mode): ASGI (HTTP + WebSockets) plus the scheduler."""

from django.conf import settings
from django.core.management.base import BaseCommand

from goatedvips.scheduler import EmbeddedScheduler


class Command(BaseCommand):
    help = "Run the site under daphne with the in-process scheduler (embedded mode; `make run` uses this)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not run periodic jobs here (scaled mode runs them in Celery beat + workers).",
        )

    def handle(self, *args, host: str, port: int, no_scheduler: bool, **options):
        from daphne.cli import CommandLineInterface

        scheduler = None
        if not no_scheduler:
            if not settings.EMBEDDED:
                self.stderr.write("REDIS_URL is set: periodic jobs belong to Celery beat; starting no scheduler.")
            else:
                scheduler = EmbeddedScheduler()
                scheduler.start()
        self.stdout.write(self.style.SUCCESS(f"GoatedVIPs on http://{host}:{port}/ (admin: /admin/, API: /api/docs/)"))
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "goatedvips.asgi:application"])
        finally:
            if scheduler:
                scheduler.stop()
