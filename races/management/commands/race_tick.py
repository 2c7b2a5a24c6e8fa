from django.core.management.base import BaseCommand

from races.services.lifecycle import race_tick


class Command(BaseCommand):
    help = "Start races whose start time has come and finalize races that have ended (safe to run any time)."

    def handle(self, *args, **options):
        report = race_tick()
        self.stdout.write(f"Started {_ids(report.started)}. Finalized {_ids(report.finalized)}.")


def _ids(ids: list[int]) -> str:
    return f"{len(ids)} race(s)" + (f" ({', '.join(map(str, ids))})" if ids else "")
