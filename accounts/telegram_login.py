"""Telegram Login Widget: check the signed payload (https://core.telegram.org/widgets/login#checking-authorization)."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from core.errors import ServiceError

# The widget's data is a bearer credential: short-lived, accepted once, never for staff accounts.
MAX_AGE_SECONDS = 5 * 60
FIELDS = ("id", "first_name", "last_name", "username", "photo_url", "auth_date", "hash")


class TelegramLoginRefused(ServiceError):
    code = "telegram_login_refused"


def telegram_login_check(data: dict[str, str], *, now: float | None = None) -> int:
    """Return the Telegram user id if `data` was signed by our bot token within the last day."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise TelegramLoginRefused("Signing in with Telegram is not available on this site.")
    fields = {k: v for k, v in data.items() if k != "hash"}
    given = data.get("hash", "")
    check_string = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hashlib.sha256(token.encode()).digest()
    expected = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        raise TelegramLoginRefused("The Telegram sign-in data was not valid. Try again.")
    try:
        auth_date, telegram_id = int(fields.get("auth_date", "")), int(fields.get("id", ""))
    except ValueError:
        raise TelegramLoginRefused("The Telegram sign-in data was incomplete. Try again.") from None
    age = (now or time.time()) - auth_date
    if age > MAX_AGE_SECONDS or age < -60:
        raise TelegramLoginRefused("That Telegram sign-in has expired. Try again.")
    return telegram_id


def telegram_login_user(data: dict[str, str]) -> User:
    """The site user a fresh, never-used widget payload signs in. Each payload (its hash) works once, in every
    process (the cache is shared); staff accounts sign in with their password and second factor only."""
    data = {k: v for k, v in data.items() if k in FIELDS}
    telegram_id = telegram_login_check(data)
    user = User.objects.filter(telegram_id=telegram_id, is_active=True).first()
    if user is None:
        raise TelegramLoginRefused(
            "No account is linked to this Telegram yet. Sign in with your password and link Telegram in your account."
        )
    if user.is_staff or user.is_superuser:
        raise TelegramLoginRefused("Staff accounts sign in with their password and two-factor code, not Telegram.")
    if not cache.add(f"tg-login:{data['hash']}", 1, timeout=MAX_AGE_SECONDS + 120):
        raise TelegramLoginRefused("That Telegram sign-in was already used. Sign in again with Telegram.")
    return user
