"""The affiliate API token: pasted by an operator in admin, stored encrypted at rest, read by every process's
next sync (no restart). AFFILIATE_API_TOKEN from the environment is the fallback while none is stored.

Encryption is Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with TOKEN_ENCRYPTION_KEY: one key, or
several separated by commas to rotate (the first encrypts, any decrypts). Unset, a key is derived from
SECRET_KEY (embedded mode); `check --deploy` warns about that in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import ServiceError
from core.models import AuditEntry
from core.roles import OPERATORS
from notifications.services import staff_alert
from races.feed.models import FeedCredential

logger = logging.getLogger(__name__)
MAX_TOKEN = 8192
# When operators are warned before the token expires (dashboard colour and a Telegram DM, once each).
WARN_AT = {"24h": timedelta(hours=24), "2h": timedelta(hours=2)}


def feed_token_expiry(token: str) -> datetime | None:
    """The `exp` of a JWT bearer token (read, not verified: only upstream can verify it), else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return None
        return datetime.fromtimestamp(exp, UTC)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


class TokenRefused(ServiceError):
    code = "token_invalid"


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in (settings.TOKEN_ENCRYPTION_KEY or "").split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"goatedvips.feed-token|" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def feed_token_store(token: str, *, actor, source: str = AuditEntry.Source.ADMIN) -> FeedCredential:
    """Store a new affiliate token (encrypted); the next sync in every process uses it."""
    token = (token or "").strip()
    if not token:
        raise TokenRefused("Paste the token.", fields={"token": ["Required."]})
    if len(token) > MAX_TOKEN or any(c.isspace() or ord(c) < 33 for c in token):
        raise TokenRefused(
            "That does not look like a token: no spaces or line breaks, at most 8 KB.", fields={"token": ["Invalid."]}
        )
    expires_at = feed_token_expiry(token)
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenRefused(
            f"This token expired at {expires_at:%Y-%m-%d %H:%M} UTC. Copy a fresh one from the affiliate panel.",
            fields={"token": ["Expired."]},
        )
    with transaction.atomic():
        credential = FeedCredential.objects.create(
            token_encrypted=_fernet().encrypt(token.encode()).decode(), fingerprint=token_fingerprint(token),
            expires_at=expires_at, created_by=actor,
        )  # fmt: skip
        audit_record(
            actor=actor, action="feed.token_set", target=credential, source=source,
            after={"fingerprint": credential.fingerprint, "expires_at": expires_at},
        )  # fmt: skip
    return credential


@dataclass(frozen=True)
class CurrentToken:
    token: str
    source: str  # "admin" (stored), "environment" (AFFILIATE_API_TOKEN), "unreadable" or "none"
    credential: FeedCredential | None = None

    @property
    def expires_at(self) -> datetime | None:
        if self.credential is not None:
            return self.credential.expires_at
        return feed_token_expiry(self.token) if self.token else None


def feed_token_current() -> CurrentToken:
    """The token the next request to the affiliate API sends: the newest stored one, else the environment's."""
    credential = FeedCredential.objects.order_by("-created_at", "-pk").first()
    if credential is not None:
        try:
            return CurrentToken(_fernet().decrypt(credential.token_encrypted.encode()).decode(), "admin", credential)
        except InvalidToken:
            logger.error(
                "the stored affiliate token %s cannot be decrypted (TOKEN_ENCRYPTION_KEY changed?); "
                "using AFFILIATE_API_TOKEN", credential.fingerprint,
            )  # fmt: skip
            if settings.AFFILIATE_API_TOKEN:
                return CurrentToken(settings.AFFILIATE_API_TOKEN, "environment")
            return CurrentToken("", "unreadable", credential)
    if settings.AFFILIATE_API_TOKEN:
        return CurrentToken(settings.AFFILIATE_API_TOKEN, "environment")
    return CurrentToken("", "none")


def token_warning_level(expires_at: datetime | None, now: datetime | None = None) -> str:
    """ "" (fine or unknown), "amber" (under 24 h left), "red" (under 2 h, or expired)."""
    if expires_at is None:
        return ""
    left = expires_at - (now or timezone.now())
    if left <= WARN_AT["2h"]:
        return "red"
    if left <= WARN_AT["24h"]:
        return "amber"
    return ""


def feed_token_expiry_warn(now: datetime | None = None) -> list[str]:
    """Tell operators linked to Telegram that the stored token expires soon: at 24 h and at 2 h, once each
    (the mark is claimed first, so two workers never warn twice). Returns the warnings sent."""
    current = feed_token_current()
    credential, now = current.credential, now or timezone.now()
    if credential is None or credential.expires_at is None or current.source != "admin":
        return []
    sent = []
    for label, field_name in (("24h", "warned_24h_at"), ("2h", "warned_2h_at")):
        if credential.expires_at - now > WARN_AT[label]:
            continue
        claimed = FeedCredential.objects.filter(pk=credential.pk, **{f"{field_name}__isnull": True}).update(
            **{field_name: now}
        )
        if not claimed:
            continue
        left = credential.expires_at - now
        when = "has expired" if left <= timedelta(0) else f"expires in {_duration(left)}"
        with transaction.atomic():
            staff_alert(
                operators_to_warn(),
                title=f"The affiliate API token {when}",
                body=f"({credential.expires_at:%Y-%m-%d %H:%M} UTC). "
                "Paste a new one in admin: Races → Affiliate API tokens.",
            )
        sent.append(label)
    return sent


def operators_to_warn():
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, telegram_id__isnull=False)
        .filter(Q(is_superuser=True) | Q(groups__name=OPERATORS))
        .distinct()
    )


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
