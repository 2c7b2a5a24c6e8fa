from django.core.management.base import BaseCommand

from goatedvips.demo import seed_demo


class Command(BaseCommand):
    help = "Load demo data: players, races, raffles, bonus codes, wheel segments, staff accounts."

    def handle(self, *args, **options):
        report = seed_demo(progress=lambda msg: self.stdout.write(f"  {msg}"))
        self.stdout.write(
            f"Players: {report.players_created} created, {report.players_existing} already there. "
            f"Bonus codes created: {report.codes_created}. Wheel segments created: {report.segments_created}."
        )
        if report.sync_note:
            self.stdout.write(self.style.WARNING(f"Players: {report.sync_note}."))
        if report.demo_player:
            self.stdout.write(f"Account 'demo' is linked to the Goated player {report.demo_player} (verified).")
        for race in report.races:
            self.stdout.write(f"Race: {race}")
        for raffle in report.raffles:
            self.stdout.write(f"Raffle: {raffle}")
        for username, password in report.accounts:
            if password:
                self.stdout.write(
                    self.style.WARNING(f"Account {username!r} created with password {password}  (shown only now)")
                )
            else:
                self.stdout.write(
                    f"Account {username!r} exists; its password is unchanged "
                    f"(reset it with: python manage.py changepassword {username})."
                )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
