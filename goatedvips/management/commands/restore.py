import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from goatedvips.backup import BackupError, backup_restore, database_from_url, manifest_load


class Command(BaseCommand):
    help = (
        "Restore a `backup` file into a fresh database, then verify its row counts and money checksums against the "
        "manifest; exits non-zero on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .dump file (its manifest .json beside it).")
        parser.add_argument(
            "--target",
            help="postgres:// URL of the database to restore into (created if missing; must be empty). Default: "
            "<backed-up database>_restored_<stamp> on DATABASE_URL's server.",
        )
        parser.add_argument("--replace", action="store_true", help="Drop and recreate a target that is not empty.")
        parser.add_argument("--jobs", type=int, default=2, help="pg_restore's parallel jobs (default 2).")

    def handle(self, *args, file: str, target: str | None = None, replace: bool = False, jobs: int = 2, **options):
        dump = Path(file)
        started = time.monotonic()
        try:
            db = database_from_url(target) if target else self._default_target(dump)
            problems = backup_restore(dump, db, self.stdout.write, replace=replace, jobs=jobs)
        except BackupError as error:
            raise CommandError(str(error)) from error
        took = time.monotonic() - started
        if problems:
            for problem in problems:
                self.stderr.write(f"  MISMATCH {problem}")
            raise CommandError(
                f"the restored database {db['NAME']} does not match the manifest ({len(problems)} differences); "
                "it is left in place for inspection"
            )
        self.stdout.write(self.style.SUCCESS(
            f"Restored and verified in {took:.1f} s: {db['NAME']} matches the manifest (row counts, money checksums)."
        ))  # fmt: skip

    @staticmethod
    def _default_target(dump: Path) -> dict:
        manifest = manifest_load(dump)
        db = dict(settings.DATABASES["default"])
        stamp = dump.stem.rsplit("-", 1)[-1].lower()
        db["NAME"] = f"{manifest['database']}_restored_{stamp}"[:63]
        return db
