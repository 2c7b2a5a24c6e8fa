from django.core.management.base import BaseCommand, CommandError

from races.services.statements import monthly_statements_send, previous_month


class Command(BaseCommand):
    help = "Email the monthly statements (last month by default; --month YYYY-MM). Sends each one once."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="The month to report, as YYYY-MM (default: last month)")

    def handle(self, *args, month=None, **options):
        year, number = previous_month()
        if month:
            try:
                year, number = (int(part) for part in month.split("-"))
                if not 1 <= number <= 12:
                    raise ValueError
            except ValueError:
                raise CommandError(f"--month must look like 2026-10, not {month!r}.") from None
        sent = monthly_statements_send(year, number)
        self.stdout.write(self.style.SUCCESS(f"Statements for {year}-{number:02d}: {sent} sent."))
