from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from core import partitions
from goatedvips.retention import partitions_archive


class Command(BaseCommand):
    help = (
        "PostgreSQL: make the partitions of this month and the next ones for the month-partitioned tables, then "
        "archive the months past their retention age to RETENTION_ARCHIVE_DIR (CSV, gzip) and detach and drop them. "
        "Safe to run any number of times; the nightly retention task runs the same steps."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=partitions.MONTHS_AHEAD, help="Months ahead to prepare.")
        parser.add_argument("--no-archive", action="store_true", help="Only create partitions; archive nothing.")

    def handle(self, *args, months: int, no_archive: bool = False, **options):
        if not 0 <= months <= 120:
            raise CommandError(f"--months must be between 0 and 120, not {months}")
        if connection.vendor != "postgresql":
            self.stdout.write(f"Partitions: nothing to do, this database is {connection.vendor} (plain tables).")
            return
        made = partitions.partitions_ensure(now=timezone.now(), months_ahead=months, log=self.stdout.write)
        archived = {} if no_archive else partitions_archive(log=self.stdout.write)
        for table in partitions.partitioned_tables():
            months_held = partitions.partitions_of(table)
            span = f"{months_held[0].start:%Y-%m} to {months_held[-1].start:%Y-%m}" if months_held else "none"
            self.stdout.write(
                f"  {table}: {len(months_held)} month(s), {span}; DEFAULT holds {partitions.default_rows(table)} row(s)"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Partitions: {len(made)} created, {sum(archived.values())} row(s) archived.")
        )
