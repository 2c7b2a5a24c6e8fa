from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from core.features import feature_states, maintenance_note, switches_read
from growth.code import referral_code
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
    switches = _Switches()
    return {
        "PAGE_URL": _page_url(request),
        # The bell in the header of every page (one count query for a signed-in visitor).
        "UNREAD_NOTIFICATIONS": notifications_unread_count(user) if user is not None and user.is_authenticated else 0,
        "SITE_NAME": settings.SITE_NAME,
        "REFERRAL_URL": settings.REFERRAL_URL,
        "REFERRAL_CODE": referral_code(),
        "TELEGRAM_BOT_USERNAME": settings.TELEGRAM_BOT_USERNAME,
        "TELEGRAM_LOGIN_ENABLED": bool(settings.TELEGRAM_BOT_TOKEN),
        # Read only where a template asks, then once per render: {% if FEATURE_ON.wheel %}.
        "FEATURE_ON": switches,
        "MAINTENANCE_NOTE": switches.maintenance_note,
    }


class _Switches:
    """The feature states and the maintenance note, read from the switch cache the first time a template asks
    and kept for the render (a page asks about several: header links, footer form, banner): one cache read."""

    def __init__(self) -> None:
        self._switches: dict | None = None
        self._states: dict[str, bool] | None = None

    def _read(self) -> dict:
        if self._switches is None:
            self._switches = switches_read()
        return self._switches

    def __getitem__(self, name: str) -> bool:
        if self._states is None:
            self._states = feature_states(self._read())
        return self._states[name]

    def maintenance_note(self) -> str:
        return maintenance_note(self._read())
