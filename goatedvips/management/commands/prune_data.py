from django.core.management.base import BaseCommand

from goatedvips.retention import retention_run


class Command(BaseCommand):
    help = "Delete logs, samples, read notifications, tokens and audit rows past their retention age (settings)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, dry_run: bool = False, **options):
        done = retention_run(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for label, count in done.items():
            self.stdout.write(f"  {label}: {verb} {count}")
        self.stdout.write(self.style.SUCCESS(f"Retention: {sum(done.values())} row(s) {verb}."))
