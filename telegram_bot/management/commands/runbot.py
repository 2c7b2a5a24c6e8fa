import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the Telegram bot with long polling (its own process; Procfile `bot`)."

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: the bot is disabled.")
        from telegram_bot.bot import bot_create, dispatcher_create

        async def main():
            bot = bot_create()
            # Polling and a webhook exclude each other: polling wins while it runs.
            await bot.delete_webhook(drop_pending_updates=False)
            me = await bot.get_me()
            self.stdout.write(f"Polling as @{me.username} via {settings.TELEGRAM_API_URL}. Ctrl-C to stop.")
            await dispatcher_create().start_polling(bot, handle_signals=True)

        asyncio.run(main())
