from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from core.features import feature_enabled, maintenance_note
from notifications.selectors import notifications_unread_count


def _page_url(request: HttpRequest) -> str:
    """The page's absolute URL for og:url, or "" when the Host header is not one of ours (an error page for a
    foreign Host must not fail on it again)."""
    try:
        return request.build_absolute_uri()
    except DisallowedHost:
        return ""


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "PAGE_URL": _page_url(request),
        # The bell in the header of every page (one count query for a signed-in visitor).
        "UNREAD_NOTIFICATIONS": notifications_unread_count(user) if user is not None and user.is_authenticated else 0,
        "SITE_NAME": settings.SITE_NAME,
        "REFERRAL_URL": settings.REFERRAL_URL,
        "TELEGRAM_BOT_USERNAME": settings.TELEGRAM_BOT_USERNAME,
        "TELEGRAM_LOGIN_ENABLED": bool(settings.TELEGRAM_BOT_TOKEN),
        # Read only where a template asks (a cached switch lookup each): {% if FEATURE_ON.wheel %}.
        "FEATURE_ON": _Switches(),
        "MAINTENANCE_NOTE": maintenance_note,
    }


class _Switches:
    def __getitem__(self, name: str) -> bool:
        return feature_enabled(name)
