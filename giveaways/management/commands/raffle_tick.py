from django.core.management.base import BaseCommand

from giveaways.services import raffle_tick


class Command(BaseCommand):
    help = "Open the raffles whose start has come and draw those that have ended (DESIGN §7)."

    def handle(self, *args, **options) -> None:
        report = raffle_tick()
        opened = ", ".join(f"#{pk}" for pk in report.opened) or "none"
        drawn = ", ".join(f"#{pk}" for pk in report.drawn) or "none"
        self.stdout.write(f"Raffles opened: {opened}. Raffles drawn: {drawn}.")
