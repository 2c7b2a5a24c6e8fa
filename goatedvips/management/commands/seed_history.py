from django.core.management.base import BaseCommand, CommandError

from goatedvips.history import history_generate


class Command(BaseCommand):
    help = "Generate a history (default 90 days) for the dashboard's charts: demo data, never for production."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="How many days back (1 to 400).")

    def handle(self, *args, days: int, **options):
        if not 1 <= days <= 400:
            raise CommandError("--days must be between 1 and 400.")
        report = history_generate(days, progress=lambda msg: self.stdout.write(f"  {msg}"))
        self.stdout.write(self.style.SUCCESS(
            f"History: {report.days} days, {report.users} accounts, {report.races} races, {report.tickets} tickets, "
            f"{report.syncs} syncs."
        ))  # fmt: skip
