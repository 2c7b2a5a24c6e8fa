import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from goatedvips.backup import BackupError, backup_create, database_from_url


class Command(BaseCommand):
    help = "pg_dump (custom format) of the database with a manifest: row counts and money-table checksums."

    def add_arguments(self, parser):
        parser.add_argument("--database-url", help="The database to back up (default: DATABASE_URL).")
        parser.add_argument("--output-dir", default=str(Path(settings.BASE_DIR) / "var" / "backups"))

    def handle(self, *args, database_url: str | None = None, output_dir: str = "", **options):
        db = database_from_url(database_url) if database_url else settings.DATABASES["default"]
        started = time.monotonic()
        try:
            dump, manifest = backup_create(db, Path(output_dir), self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from error
        took, size = time.monotonic() - started, dump.stat().st_size / 1e6
        self.stdout.write(self.style.SUCCESS(f"Backup written in {took:.1f} s: {dump} ({size:.1f} MB)"))
        self.stdout.write(f"Manifest: {manifest}")
