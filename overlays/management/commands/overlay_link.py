from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from core.models import AuditEntry
from giveaways.selectors import raffle_get
from overlays.models import OverlayLink
from overlays.services import overlay_link_create
from races.feed.leaderboard import PERIODS


class Command(BaseCommand):
    help = "Create a stream overlay link (DESIGN §7) and print its path /overlay/<token>/<kind>/ as the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=OverlayLink.Kind.values)
        parser.add_argument("--n", type=int, default=10, help="rows shown (1-25; default 10)")
        parser.add_argument(
            "--raffle", type=int, help="raffle id (raffle overlays; default: the open one ending soonest)"
        )
        parser.add_argument("--period", choices=PERIODS, default="monthly", help="leaderboard period (default monthly)")
        parser.add_argument("--theme", choices=OverlayLink.Theme.values, default="dark")
        parser.add_argument("--label", default="")

    def handle(self, *args, kind: str, n: int, raffle: int | None, period: str, theme: str, label: str, **options):
        chosen = None
        if raffle is not None:
            chosen = raffle_get(raffle)
            if chosen is None:
                raise CommandError(f"Raffle {raffle} does not exist.")
        try:
            link = overlay_link_create(kind, n=n, raffle=chosen, period=period, theme=theme, label=label,
                                       source=AuditEntry.Source.SYSTEM)  # fmt: skip
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Overlay link #{link.pk} ({kind}) created. Full URL: {link.url}")
        self.stdout.write("Revoke or rotate it in admin (Stream overlays). Path:")
        self.stdout.write(link.path)
