"""Serve the whole site from one process (embedded mode): ASGI (HTTP + WebSockets) plus the scheduler."""

import asyncio
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from goatedvips.scheduler import EmbeddedScheduler
from telegram_bot.bot import bot_create, dispatcher_create


class Command(BaseCommand):
    help = "Run the site under daphne with the in-process scheduler (embedded mode; `make run` uses this)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not run periodic jobs here (scaled mode runs them in Celery beat + workers).",
        )

    def handle(self, *args, host: str, port: int, no_scheduler: bool, **options):
        from daphne.cli import CommandLineInterface

        scheduler = None
        if not no_scheduler:
            if not settings.EMBEDDED:
                self.stderr.write("REDIS_URL is set: periodic jobs belong to Celery beat; starting no scheduler.")
            else:
                scheduler = EmbeddedScheduler()
                scheduler.start()
        if settings.EMBEDDED and settings.TELEGRAM_BOT_TOKEN and not settings.TELEGRAM_WEBHOOK_SECRET:
            _bot_polling_thread_start(self.stdout)
        elif not settings.TELEGRAM_BOT_TOKEN:
            self.stdout.write("Telegram bot: not configured (set TELEGRAM_BOT_TOKEN to enable it).")
        self.stdout.write(self.style.SUCCESS(f"GoatedVIPs on http://{host}:{port}/ (admin: /admin/, API: /api/docs/)"))
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "goatedvips.asgi:application"])
        finally:
            if scheduler:
                scheduler.stop()


def _bot_polling_thread_start(stdout) -> None:
    """Embedded mode with a token: long-poll the bot in this process, on its own thread and event loop."""

    def run() -> None:
        async def main():
            bot = bot_create()
            await bot.delete_webhook(drop_pending_updates=False)
            await dispatcher_create().start_polling(bot, handle_signals=False)

        asyncio.run(main())

    threading.Thread(target=run, name="telegram-bot", daemon=True).start()
    stdout.write("Telegram bot: polling in this process.")
