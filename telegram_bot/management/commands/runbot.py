import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the Telegram bot with long polling (its own process; Procfile `bot`)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-configured", action="store_true",
            help="Without TELEGRAM_BOT_TOKEN, idle instead of failing (process managers stop everything when one "
            "process exits).",
        )  # fmt: skip
        parser.add_argument(
            "--backoff-max", type=float, default=None, metavar="SECONDS",
            help="Longest wait between polls while the Bot API is unreachable (default: aiogram's 5 s; the first "
            "wait is a fifth of it).",
        )  # fmt: skip

    def handle(self, *args, if_configured: bool = False, backoff_max: float | None = None, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            if if_configured:
                self.stdout.write("TELEGRAM_BOT_TOKEN is not set: the bot is off; idling.")
                self.stdout.flush()
                signal.pause()
                return
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: the bot is disabled.")
        from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
        from aiogram.utils.backoff import BackoffConfig

        from telegram_bot.bot import bot_create, dispatcher_create

        backoff = DEFAULT_BACKOFF_CONFIG
        if backoff_max is not None:
            backoff = BackoffConfig(min_delay=backoff_max / 5, max_delay=backoff_max, factor=1.3, jitter=0.1)

        async def main():
            bot = bot_create()
            # Polling and a webhook exclude each other: polling wins while it runs.
            await bot.delete_webhook(drop_pending_updates=False)
            me = await bot.get_me()
            self.stdout.write(f"Polling as @{me.username} via {settings.TELEGRAM_API_URL}. Ctrl-C to stop.")
            await dispatcher_create().start_polling(bot, handle_signals=True, backoff_config=backoff)

        asyncio.run(main())
