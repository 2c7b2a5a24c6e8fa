import logging

from django.core.management.base import BaseCommand, CommandError

from races.feed.client import feed_source
from races.services.sync import sync_wagers


class Command(BaseCommand):
    help = (
        "Run one affiliate feed sync now (the demo feed when AFFILIATE_API_URL is unset). "
        "Exit 0 on success, non-zero with a one-line reason on failure."
    )

    def handle(self, *args, **options):
        # The sync's own log lines (the orchestrator's and the feed package's) only with -v 2.
        service_log = logging.getLogger("races")
        previous = service_log.level
        if options["verbosity"] < 2:
            # The outcome is printed below as one line.
            service_log.setLevel(logging.ERROR)
        try:
            self._sync(options)
        finally:
            service_log.setLevel(previous)

    def _sync(self, options):
        source = "the affiliate feed" if feed_source() == "affiliate" else "the demo feed"
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
