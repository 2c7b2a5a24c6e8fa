"""System checks of the races app's configuration."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def token_encryption_key_valid(app_configs=None, **kwargs):
    problems = []
    for i, key in enumerate(k.strip() for k in (settings.TOKEN_ENCRYPTION_KEY or "").split(",") if k.strip()):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(
                Error(
                    f"TOKEN_ENCRYPTION_KEY: key {i + 1} is not a Fernet key (32 url-safe base64-encoded bytes).",
                    hint='Make one with: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="races.E001",
                )
            )
    return problems


@register(Tags.security, deploy=True)
def token_encryption_key_set(app_configs=None, **kwargs):
    if (settings.TOKEN_ENCRYPTION_KEY or "").strip():
        return []
    return [
        Warning(
            "TOKEN_ENCRYPTION_KEY is not set: the affiliate token stored in admin is encrypted with a key derived "
            "from SECRET_KEY, so rotating SECRET_KEY makes it unreadable.",
            hint="Set TOKEN_ENCRYPTION_KEY to a Fernet key (docs/operations.md).",
            id="races.W001",
        )
    ]


@register()
def public_name_display_valid(app_configs=None, **kwargs):
    if settings.PUBLIC_NAME_DISPLAY in ("full", "masked"):
        return []
    return [Error(f"PUBLIC_NAME_DISPLAY is {settings.PUBLIC_NAME_DISPLAY!r}.", hint="Set it to full or masked.",
                  id="races.E002")]  # fmt: skip
