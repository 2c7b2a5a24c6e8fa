import logging

from django.core.management.base import BaseCommand, CommandError

from races.services import sync
from races.services.sync import sync_wagers


class Command(BaseCommand):
    help = (
        "Run one affiliate feed sync now (the demo feed when AFFILIATE_API_URL is unset). "
        "Exit 0 on success, non-zero with a one-line reason on failure."
    )

    def handle(self, *args, **options):
        service_log = logging.getLogger(sync.__name__)
        previous = service_log.level
        if options["verbosity"] < 2:
            # The outcome is printed below as one line; the service's own log lines only with -v 2.
            service_log.setLevel(logging.ERROR)
        try:
            self._sync(options)
        finally:
            service_log.setLevel(previous)

    def _sync(self, options):
        source = "the affiliate feed" if self._configured() else "the demo feed"
        if options["verbosity"] > 0:
            self.stdout.write(f"Syncing from {source}…")
        result = sync_wagers()
        if result.skipped:
            self.stdout.write(self.style.WARNING("Another sync is already running; nothing done."))
            return
        if not result.ok:
            raise CommandError(result.summary())
        self.stdout.write(self.style.SUCCESS(result.summary()[0].upper() + result.summary()[1:] + "."))
        if result.races:
            self.stdout.write(f"Live races refreshed: {', '.join(map(str, result.races))}.")

    @staticmethod
    def _configured() -> bool:
        from django.conf import settings

        return bool(settings.AFFILIATE_API_URL)
