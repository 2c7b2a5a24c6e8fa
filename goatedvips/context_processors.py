from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "REFERRAL_URL": settings.REFERRAL_URL,
        "TELEGRAM_BOT_USERNAME": settings.TELEGRAM_BOT_USERNAME,
        "TELEGRAM_LOGIN_ENABLED": bool(settings.TELEGRAM_BOT_TOKEN),
    }
