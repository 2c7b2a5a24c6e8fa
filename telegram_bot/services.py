"""Telegram-side business rules: account linking, Goated verification requests and their review, broadcasts.

Bot handlers, the webhook, admin actions and site views all call these; none of them decides anything itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import NotificationPreferences, User
from goatedvips.audit import audit_record
from goatedvips.errors import ServiceError
from telegram_bot.models import BotUser, TelegramLinkToken, VerificationRequest

logger = logging.getLogger(__name__)

LINK_TOKEN_MINUTES = 15
REVIEW_PERMISSION = "telegram_bot.change_verificationrequest"


class BotError(ServiceError):
    """A refusal worth telling the Telegram user as is."""


# --- who is talking -------------------------------------------------------------------------------------------


def bot_user_seen(telegram_id: int, username: str = "", first_name: str = "") -> BotUser:
    now = timezone.now()
    bot_user, created = BotUser.objects.get_or_create(
        telegram_id=telegram_id,
        defaults={"username": username or "", "first_name": first_name or "", "first_seen": now, "last_seen": now},
    )
    if not created:
        BotUser.objects.filter(pk=bot_user.pk).update(
            username=username or "", first_name=first_name or "", last_seen=now, blocked_at=None
        )
    return bot_user


def site_user_for(telegram_id: int) -> User | None:
    return User.objects.filter(telegram_id=telegram_id, is_active=True).select_related("player").first()


def is_staff_reviewer(user: User | None) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION))


def player_for(telegram_id: int):
    """The Goated player of a Telegram user: through the linked site account, else an approved bot request."""
    user = site_user_for(telegram_id)
    if user and user.player_id:
        return user.player
    approved = (
        VerificationRequest.objects.filter(telegram_id=telegram_id, status=VerificationRequest.Status.APPROVED)
        .select_related("player")
        .order_by("-decided_at")
        .first()
    )
    return approved.player if approved else None


# --- linking a Telegram account to a site user ------------------------------------------------------------------


def _signature(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"telegram-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


def telegram_link_token_issue(user: User) -> str:
    """A signed, single-use code valid for 15 minutes; fits Telegram's 64-character /start payload."""
    nonce = secrets.token_urlsafe(9)  # 12 characters of [A-Za-z0-9_-]
    TelegramLinkToken.objects.create(
        user=user, nonce=nonce, expires_at=timezone.now() + timedelta(minutes=LINK_TOKEN_MINUTES)
    )
    return f"{nonce}{_signature(nonce)}"


def telegram_link_token_consume(token: str, telegram_id: int, telegram_username: str = "") -> User:
    """Link the Telegram account to the user who generated the code. Refuses forged, expired and reused codes."""
    token = (token or "").strip()
    nonce, signature = token[:12], token[12:]
    if len(token) != 34 or not hmac.compare_digest(signature, _signature(nonce)):
        raise BotError("That link code is not valid. Open the link again from your account page.")
    now = timezone.now()
    with transaction.atomic():
        code = TelegramLinkToken.objects.select_related("user").filter(nonce=nonce).first()
        if code is None:
            raise BotError("That link code is not valid. Open the link again from your account page.")
        if code.expires_at <= now:
            raise BotError("That link code has expired. Generate a new one on your account page.")
        if not TelegramLinkToken.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=now):
            raise BotError("That link code was already used. Generate a new one on your account page.")
        user = code.user
        other = User.objects.filter(telegram_id=telegram_id).exclude(pk=user.pk).first()
        if other is not None:
            raise BotError("This Telegram account is already linked to another site account.")
        User.objects.filter(pk=user.pk).update(telegram_id=telegram_id, telegram_username=telegram_username or "")
        audit_record(actor=user, action="telegram.link", target=user, after={"telegram_id": telegram_id})
    user.telegram_id, user.telegram_username = telegram_id, telegram_username or ""
    return user


# --- verification requests ------------------------------------------------------------------------------------


def verification_request_create(
    *, goated_name: str, user: User | None = None, telegram_id: int | None = None, telegram_username: str = ""
) -> VerificationRequest:
    """A claim to own a Goated player: it must be in the feed, not linked to someone else, one pending at a time."""
    from races.models import Player

    name = (goated_name or "").strip()[:64]
    if not name:
        raise BotError("Tell me your Goated username, e.g. /verify LuckyGoat88")
    if user is None and telegram_id is not None:
        user = site_user_for(telegram_id)
    if user is not None and user.player_id:
        raise BotError("Your account is already linked to a Goated player.")
    player = Player.objects.filter(name__iexact=name).select_related("site_user").first()
    if player is None:
        raise BotError(
            f"No player called “{name}” is in our feed. Check the spelling, and make sure you signed up with our "
            "referral code; new players appear after the next sync."
        )
    owner = getattr(player, "site_user", None)
    if owner is not None and owner != user:
        raise BotError("That Goated player is already linked to another account. Contact support if it is yours.")
    pending = VerificationRequest.objects.filter(status=VerificationRequest.Status.PENDING)
    if (user and pending.filter(user=user).exists()) or (telegram_id and pending.filter(telegram_id=telegram_id)):
        raise BotError("You already have a request waiting for review; staff will answer it soon.")
    source = VerificationRequest.Source.TELEGRAM if telegram_id else VerificationRequest.Source.SITE
    try:
        with transaction.atomic():
            request = VerificationRequest.objects.create(
                user=user,
                telegram_id=telegram_id,
                telegram_username=telegram_username or "",
                goated_name=player.name,
                player=player,
                source=source,
            )
            if user is not None:
                User.objects.filter(pk=user.pk).update(verification_status=User.VerificationStatus.PENDING)
    except IntegrityError:
        raise BotError("You already have a request waiting for review; staff will answer it soon.") from None
    transaction.on_commit(lambda: _tell_reviewers(request.pk))
    return request


def _decide(request_id: int, *, actor, approve: bool, reason: str = "", source: str) -> VerificationRequest:
    status = VerificationRequest.Status.APPROVED if approve else VerificationRequest.Status.REJECTED
    now = timezone.now()
    with transaction.atomic():
        claimed = VerificationRequest.objects.filter(pk=request_id, status=VerificationRequest.Status.PENDING).update(
            status=status, decided_at=now, decided_by=actor, admin_notes=reason[:1000]
        )
        request = VerificationRequest.objects.select_related("user", "player").filter(pk=request_id).first()
        if request is None:
            raise BotError(f"There is no verification request #{request_id}.")
        if not claimed:
            raise BotError(f"Request #{request_id} was already {request.get_status_display().lower()}.")
        user = request.user or (site_user_for(request.telegram_id) if request.telegram_id else None)
        if user is not None:
            if approve:
                taken = User.objects.filter(player=request.player).exclude(pk=user.pk).exists()
                if taken:
                    raise BotError("That player is already linked to another account; reject this request instead.")
                User.objects.filter(pk=user.pk).update(
                    player=request.player, verification_status=User.VerificationStatus.VERIFIED
                )
            else:
                User.objects.filter(pk=user.pk).update(verification_status=User.VerificationStatus.REJECTED)
        audit_record(
            actor=actor,
            action="verification.approve" if approve else "verification.reject",
            target=request,
            before={"status": "pending"},
            after={"status": status, "player": request.player_id, "user": getattr(user, "pk", None), "reason": reason},
            source=source,
        )
        transaction.on_commit(lambda: verification_decided_notify(request.pk))
    return request


def verification_approve(request_id: int, *, actor, source: str = "service") -> VerificationRequest:
    return _decide(request_id, actor=actor, approve=True, source=source)


def verification_reject(request_id: int, *, actor, reason: str = "", source: str = "service") -> VerificationRequest:
    return _decide(request_id, actor=actor, approve=False, reason=reason, source=source)


def verification_decided_notify(request_id: int) -> None:
    """Tell the requester: in-site notification for a site user, Telegram DM when we know their chat."""
    from accounts.services import notification_create
    from telegram_bot.tasks import telegram_message_send_task

    request = VerificationRequest.objects.select_related("user", "player").get(pk=request_id)
    approved = request.status == VerificationRequest.Status.APPROVED
    title = f"Verification {'approved' if approved else 'rejected'}: {request.goated_name}"
    body = (
        f"You are now linked to the Goated player {request.goated_name}."
        if approved
        else f"We could not confirm that {request.goated_name} is yours. {request.admin_notes}".strip()
    )
    if request.user is not None:
        notification_create(request.user, kind="verification", title=title, body=body, dedupe_key=f"verif:{request.pk}")
    chat = request.telegram_id or (request.user.telegram_id if request.user else None)
    if chat:
        telegram_message_send_task.delay(chat, f"{'✅' if approved else '❌'} {body}")


def _tell_reviewers(request_id: int) -> None:
    from telegram_bot.tasks import telegram_message_send_task

    request = VerificationRequest.objects.get(pk=request_id)
    text = f"🆕 Verification request #{request.pk}: {request.goated_name}. Review with /pending."
    for user in User.objects.filter(is_staff=True, is_active=True, telegram_id__isnull=False):
        if is_staff_reviewer(user):
            telegram_message_send_task.delay(user.telegram_id, text)


# --- broadcasts -----------------------------------------------------------------------------------------------


def broadcast_recipients() -> list[int]:
    """Verified users with Telegram linked who allow push messages and have not blocked the bot."""
    blocked = BotUser.objects.filter(blocked_at__isnull=False).values_list("telegram_id", flat=True)
    allowed = NotificationPreferences.objects.filter(push_notifications=False).values_list("user_id", flat=True)
    return list(
        User.objects.filter(
            is_active=True, verification_status=User.VerificationStatus.VERIFIED, telegram_id__isnull=False
        )
        .exclude(telegram_id__in=blocked)
        .exclude(pk__in=allowed)
        .order_by("pk")
        .values_list("telegram_id", flat=True)
    )


def bot_user_blocked(telegram_id: int) -> None:
    BotUser.objects.update_or_create(telegram_id=telegram_id, defaults={"blocked_at": timezone.now()})


@dataclass
class BroadcastReport:
    recipients: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    seconds: float = 0.0


def broadcast_audit(actor, text: str, report: BroadcastReport) -> None:
    audit_record(
        actor=actor,
        action="telegram.broadcast",
        after={"text": text[:500], "recipients": report.recipients, "sent": report.sent, "blocked": report.blocked},
        source="bot",
    )
