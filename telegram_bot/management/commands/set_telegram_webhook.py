import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Point Telegram at https://<host>/telegram/webhook/ with TELEGRAM_WEBHOOK_SECRET (or --delete it)."

    def add_arguments(self, parser):
        parser.add_argument("base_url", nargs="?", help="Public base URL of the site, e.g. https://goatedvips.example")
        parser.add_argument("--delete", action="store_true", help="Remove the webhook (to go back to polling).")

    def handle(self, *args, base_url=None, delete=False, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set.")
        if not delete and (not base_url or not base_url.startswith("https://")):
            raise CommandError("Give the site's public https:// base URL (Telegram only calls HTTPS webhooks).")
        if not delete and not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses requests without it.")
        from telegram_bot.bot import bot_create

        async def main():
            bot = bot_create()
            try:
                if delete:
                    await bot.delete_webhook()
                    return "Webhook removed."
                url = base_url.rstrip("/") + "/telegram/webhook/"
                await bot.set_webhook(url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET, drop_pending_updates=False)
                return f"Webhook set to {url}."
            finally:
                await bot.session.close()

        self.stdout.write(asyncio.run(main()))
