import signal

from django.core.management.base import BaseCommand, CommandError

from notifications import broadcasts
from notifications.models import Broadcast


class Command(BaseCommand):
    help = (
        "Send (or resume) a broadcast's pending deliveries in this process. SIGTERM or Ctrl-C stops it after the "
        "message in hand; run it again to send the rest (nobody gets a message twice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("broadcast_id", type=int)

    def handle(self, *args, broadcast_id: int, **options):
        if not Broadcast.objects.filter(pk=broadcast_id).exists():
            raise CommandError(f"There is no broadcast {broadcast_id}.")

        def ask_to_stop(signum, frame):
            self.stderr.write("Stopping after the message in hand…")
            broadcasts.stop.set()

        previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            report = broadcasts.broadcast_run(broadcast_id, progress=self.progress)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for channel, counts in sorted(report.by_channel.items()):
            self.stdout.write(f"  {channel}: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
        line = f"Broadcast {broadcast_id}: {report.sent} sent, {report.blocked} blocked, {report.failed} failed, "
        line += f"{report.uncertain} uncertain"
        if report.pending:
            self.stdout.write(self.style.WARNING(f"{line}, {report.pending} still pending (run again to resume)."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{line}, in {report.seconds:.1f} s."))

    def progress(self, channel: str, done: int, total: int) -> None:
        self.stdout.write(f"  {channel}: {done} of {total}")
        self.stdout.flush()
