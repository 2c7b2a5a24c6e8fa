"""Writes on accounts: token issuing, preferences."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from accounts.models import NotificationPreferences, User
from goatedvips.errors import ServiceError


class InvalidCredentials(ServiceError):
    status_code = 400
    code = "invalid_credentials"


def api_token_obtain(*, request: HttpRequest | None, username: str, password: str) -> str:
    """Return the user's API token (created on first use) if the credentials are right."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials("Unable to sign in with that username and password.")
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def notification_preferences_get(user: User) -> NotificationPreferences:
    prefs, _ = NotificationPreferences.objects.get_or_create(user=user)
    return prefs
