"""Writes on accounts: sign-up and email, API tokens, the newsletter list, Telegram linking, bans, and the
verification of a claim to own a Goated player (its status changes only here)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.authentication import token_expired
from accounts.models import TelegramLinkToken, User, VerificationRequest
from accounts.selectors import (
    account_for_telegram,
    player_for,
    player_held_by_other,
    verification_reviewers,
)
from accounts.signals import goated_claim_sent, player_linked, player_verified, user_registered
from accounts.terms import terms_accept
from accounts.two_factor import staff_token_issue, two_factor_required
from core.audit import audit_record, duty_refused, same_person
from core.errors import ServiceError
from core.models import AuditEntry
from core.realtime import connections_close as realtime_connections_close
from notifications.services import notification_preferences_get, notify, notify_telegram_chat, staff_alert
from races.models import Player

EMAIL_VERIFY_SALT = "accounts.email-verify"
EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600
LINK_TOKEN_MINUTES = 15


class InvalidCredentials(ServiceError):
    status_code = 400
    code = "invalid_credentials"


class VerificationLinkInvalid(ServiceError):
    code = "invalid_link"


class ClaimRefused(ServiceError):
    """A claim to own a Goated player (or a review of one) that the rules refuse; the message says why."""

    code = "claim_refused"


class LinkRefused(ServiceError):
    """A Telegram link code that is forged, expired, used, or for a Telegram account linked elsewhere."""

    code = "link_refused"


# --- sign-up, email, API tokens --------------------------------------------------------------------------------


def api_token_obtain(*, request: HttpRequest | None, username: str, password: str, otp: str = "") -> str:
    """Return the user's API token (created on first use) if the credentials are right; a staff account with
    STAFF_2FA on also needs the second factor (`otp`), and gets a token marked as issued after it."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials("Unable to sign in with that username and password.")
    if two_factor_required(user):
        return staff_token_issue(user, otp)
    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()  # an expired token is replaced, never extended
        token = Token.objects.create(user=user)
    return token.key


def user_credentials_changed(user: User) -> int:
    """The password changed (reset, change, admin, shell): every API token of the account stops working.
    (Sessions end by themselves: Django ties them to the password hash.)"""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def user_sign_out_everywhere(user: User, *, actor=None, source: str = AuditEntry.Source.SERVICE) -> None:
    """End every session and API token of the account: the sessions epoch is part of each session's hash."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(sessions_epoch=F("sessions_epoch") + 1)
        Token.objects.filter(user=user).delete()
        audit_record(actor=actor or user, action="user.sign_out_everywhere", target=user, source=source)
    user.refresh_from_db(fields=["sessions_epoch"])
    transaction.on_commit(lambda: realtime_connections_close(user.pk))


def user_register(*, username: str, email: str, password: str, adult: bool, terms: bool,
                  request: HttpRequest | None = None) -> User:  # fmt: skip
    """Create the account (inputs already validated by the form) with its 18+ confirmation and acceptance of the
    current terms (both required), and send the email-verification link."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        terms_accept(user, adult=adult, accepted=terms)
        notification_preferences_get(user)
    email_verification_send(user, request)
    user_registered.send(sender=User, user=user, request=request)
    return user


def email_verification_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=EMAIL_VERIFY_SALT, compress=True)


def email_verification_send(user: User, request: HttpRequest | None) -> None:
    path = reverse("accounts:verify-email", args=[email_verification_token(user)])
    link = request.build_absolute_uri(path) if request else path
    context = {"user": user, "link": link, "days": EMAIL_VERIFY_MAX_AGE // 86400}
    send_mail(
        subject="Confirm your email for GoatedVIPs",
        message=render_to_string("emails/verify_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def email_verify(token: str) -> User:
    """Mark the email verified. The link is tied to the address it was sent to and expires after 3 days."""
    try:
        data = signing.loads(token, salt=EMAIL_VERIFY_SALT, max_age=EMAIL_VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise VerificationLinkInvalid("This link has expired. Sign in and ask for a new one.") from None
    except signing.BadSignature:
        raise VerificationLinkInvalid("This link is not valid. Copy the whole link from the email.") from None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email.lower() != data.get("e"):
        raise VerificationLinkInvalid("This link belongs to an address that is no longer on the account.")
    if not user.email_verified:
        User.objects.filter(pk=user.pk).update(email_verified=True)
        user.email_verified = True
    return user


# --- linking a Telegram account -------------------------------------------------------------------------------


def _link_signature(nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"telegram-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


def telegram_link_token_issue(user: User) -> str:
    """A signed, single-use code valid for 15 minutes; fits Telegram's 64-character /start payload. A code the
    user was shown recently and has not used is shown again (the account page asks on every visit)."""
    now = timezone.now()
    recent = (
        TelegramLinkToken.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now + timedelta(minutes=5))
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return f"{recent.nonce}{_link_signature(recent.nonce)}"
    nonce = secrets.token_urlsafe(9)  # 12 characters of [A-Za-z0-9_-]
    TelegramLinkToken.objects.create(
        user=user, nonce=nonce, expires_at=timezone.now() + timedelta(minutes=LINK_TOKEN_MINUTES)
    )
    return f"{nonce}{_link_signature(nonce)}"


def telegram_link_token_consume(token: str, telegram_id: int, telegram_username: str = "") -> User:
    """Link the Telegram account to the user who generated the code. Refuses forged, expired and reused codes."""
    token = (token or "").strip()
    nonce, signature = token[:12], token[12:]
    if len(token) != 34 or not hmac.compare_digest(signature, _link_signature(nonce)):
        raise LinkRefused("That link code is not valid. Open the link again from your account page.")
    now = timezone.now()
    with transaction.atomic():
        code = TelegramLinkToken.objects.select_related("user").filter(nonce=nonce).first()
        if code is None:
            raise LinkRefused("That link code is not valid. Open the link again from your account page.")
        if code.expires_at <= now:
            raise LinkRefused("That link code has expired. Generate a new one on your account page.")
        if not TelegramLinkToken.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=now):
            raise LinkRefused("That link code was already used. Generate a new one on your account page.")
        user = code.user
        if User.objects.filter(telegram_id=telegram_id).exclude(pk=user.pk).exists():
            raise LinkRefused("This Telegram account is already linked to another site account.")
        User.objects.filter(pk=user.pk).update(telegram_id=telegram_id, telegram_username=telegram_username or "")
        _telegram_approval_carry_over(user, telegram_id)
        audit_record(
            actor=user, action="telegram.link", target=user, after={"telegram_id": telegram_id},
            source=AuditEntry.Source.BOT,
        )  # fmt: skip
    user.telegram_id, user.telegram_username = telegram_id, telegram_username or ""
    return user


def _telegram_approval_carry_over(user: User, telegram_id: int) -> None:
    """A player approved for this Telegram account alone becomes the account's player: from now on the site and
    the bot read the holder from the account (`accounts.selectors.player_for`)."""
    approval = VerificationRequest.objects.filter(
        telegram_id=telegram_id, user__isnull=True, status=VerificationRequest.Status.APPROVED, player__isnull=False
    ).first()
    if approval is None:
        return
    if user.player_id not in (None, approval.player_id):
        raise LinkRefused(
            "This Telegram account holds another Goated player than your site account. Contact support to sort it out."
        )
    VerificationRequest.objects.filter(pk=approval.pk).update(user=user)
    User.objects.filter(pk=user.pk).update(
        player=approval.player_id, verification_status=User.VerificationStatus.VERIFIED
    )
    user.player_id, user.verification_status = approval.player_id, User.VerificationStatus.VERIFIED


# --- staff actions on accounts ----------------------------------------------------------------------------------


def user_set_active(user: User, *, active: bool, actor, source: str = AuditEntry.Source.SERVICE) -> bool:
    """Ban (deactivate) or reinstate an account; a banned user's sessions and API token stop working."""
    if user.is_active == active:
        return False
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        if not active:
            Token.objects.filter(user=user).delete()
            transaction.on_commit(lambda: realtime_connections_close(user.pk))
        audit_record(
            actor=actor,
            action="user.unban" if active else "user.ban",
            target=user,
            before={"is_active": user.is_active},
            after={"is_active": active},
            source=source,
        )
    user.is_active = active
    return True


# --- verification: a claim to own a Goated player ----------------------------------------------------------------
# pending → approved (the player is linked to the user) or rejected (with a reason); an approved link can later be
# undone by staff (`user_player_unlink`). `User.verification_status` mirrors it and changes only here.

_ALREADY_PENDING = "You already have a request waiting for review; staff will answer it soon."
_HELD = "That Goated player is already linked to another account. Contact support if it is yours."


def verification_request_create(
    *, goated_name: str, user: User | None = None, telegram_id: int | None = None, telegram_username: str = ""
) -> VerificationRequest:
    """A claim to own a Goated player: it must be in the feed, not linked to someone else, one pending at a time.
    From the site (`user`) or the bot (`telegram_id`, with or without a linked account)."""
    name = (goated_name or "").strip()[:64]
    if not name:
        raise ClaimRefused("Tell me your Goated username, e.g. /verify LuckyGoat88")
    if user is None and telegram_id is not None:
        user = account_for_telegram(telegram_id)
    if user is not None and not user.is_active:
        raise ClaimRefused("Your account is suspended. Contact support if you think this is a mistake.")
    if (user is not None and user.player_id) or (user is None and telegram_id and player_for(telegram_id)):
        raise ClaimRefused("Your account is already linked to a Goated player.")
    player = Player.objects.filter(name__iexact=name).first()
    if player is None:
        raise ClaimRefused(
            f"No player called “{name}” is in our feed. Check the spelling, and make sure you signed up with our "
            "referral code; new players appear after the next sync."
        )
    if player_held_by_other(player, user=user, telegram_id=telegram_id):
        raise ClaimRefused(_HELD)
    pending = VerificationRequest.objects.filter(status=VerificationRequest.Status.PENDING)
    if (user and pending.filter(user=user).exists()) or (telegram_id and pending.filter(telegram_id=telegram_id)):
        raise ClaimRefused(_ALREADY_PENDING)
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
                user.verification_status = User.VerificationStatus.PENDING
            staff_alert(
                verification_reviewers(),
                title=f"Verification request #{request.pk}: {request.goated_name}",
                body="Review with /pending or in admin.",
            )
    except IntegrityError:
        raise ClaimRefused(_ALREADY_PENDING) from None
    return request


def goated_claim_request(user: User, goated_name: str, request: HttpRequest | None = None) -> VerificationRequest:
    """The site's claim form: the same request as the bot's /verify, for a signed-in user."""
    if user.verification_status == User.VerificationStatus.PENDING:
        raise ClaimRefused(_ALREADY_PENDING)
    claim = verification_request_create(user=user, goated_name=goated_name)
    goated_claim_sent.send(sender=User, user=user, request=request)
    return claim


def _own_claim(request_id: int, actor) -> VerificationRequest | None:
    """The request when `actor` is the one who made it (by account, or by the Telegram account behind it)."""
    request = VerificationRequest.objects.select_related("user").filter(pk=request_id).first()
    if request is None or actor is None:
        return None
    telegram_id = getattr(actor, "telegram_id", None)
    own = same_person(actor, request.user_id) or bool(telegram_id and request.telegram_id == telegram_id)
    return request if own else None


def _decide(request_id: int, *, actor, approve: bool, reason: str, source: str) -> VerificationRequest:
    if approve and (own := _own_claim(request_id, actor)) is not None:
        raise duty_refused(
            actor=actor, action="verification.approve", target=own, source=source,
            message=f"Request #{request_id} is your own claim: another reviewer must approve it.",
        )  # fmt: skip
    status = VerificationRequest.Status.APPROVED if approve else VerificationRequest.Status.REJECTED
    now = timezone.now()
    try:
        with transaction.atomic():
            request, user = _decision_record(request_id, actor=actor, status=status, reason=reason, now=now)
            _decision_audit(request, user, actor=actor, status=status, reason=reason, source=source)
            _decision_notify(request, user, approve, reason)
            if approve and user is not None:
                transaction.on_commit(lambda: player_verified.send(sender=User, user=user))
    except IntegrityError:  # a concurrent approval won the player: the database's one-holder rule
        raise ClaimRefused(_HELD_REVIEW) from None
    return request


_HELD_REVIEW = "That player is already linked to another account; reject this request instead."


def _decision_record(request_id: int, *, actor, status: str, reason: str, now) -> tuple[VerificationRequest, User]:
    """The conditional update from pending, and on approval the holder: one person per player (locked, checked
    by the same rule as claims, and by the database's constraint)."""
    claimed = VerificationRequest.objects.filter(pk=request_id, status=VerificationRequest.Status.PENDING).update(
        status=status, decided_at=now, decided_by=actor, admin_notes=reason[:1000]
    )
    request = VerificationRequest.objects.select_related("user", "player").filter(pk=request_id).first()
    if request is None:
        raise ClaimRefused(f"There is no verification request #{request_id}.", code="not_found")
    if not claimed:
        raise ClaimRefused(f"Request #{request_id} was already {request.get_status_display().lower()}.")
    user = request.user or (account_for_telegram(request.telegram_id) if request.telegram_id else None)
    if status == VerificationRequest.Status.REJECTED:
        if user is not None:
            User.objects.filter(pk=user.pk).update(verification_status=User.VerificationStatus.REJECTED)
        return request, user
    player = Player.objects.select_for_update().filter(pk=request.player_id).first()
    if player is None:
        raise ClaimRefused("That player is no longer in the feed; reject this request instead.")
    if player_held_by_other(player, user=user, telegram_id=request.telegram_id):
        raise ClaimRefused(_HELD_REVIEW)
    if user is not None:
        if user.player_id not in (None, player.pk):
            raise ClaimRefused("That account is already linked to another player; reject this request instead.")
        User.objects.filter(pk=user.pk).update(player=player, verification_status=User.VerificationStatus.VERIFIED)
        player_linked.send(sender=User, user=user, player=player)
        if request.user_id is None:  # the approval names its holder: the account behind the Telegram claim
            VerificationRequest.objects.filter(pk=request.pk).update(user=user)
            request.user = user
    return request, user


def _decision_audit(request: VerificationRequest, user: User | None, *, actor, status: str, reason: str,
                    source: str) -> None:  # fmt: skip
    approve = status == VerificationRequest.Status.APPROVED
    audit_record(
        actor=actor,
        action="verification.approve" if approve else "verification.reject",
        target=request,
        before={"status": VerificationRequest.Status.PENDING},
        after={"status": status, "player": request.player_id, "user": getattr(user, "pk", None), "reason": reason},
        source=source,
    )


def _decision_notify(request: VerificationRequest, user: User | None, approved: bool, reason: str) -> None:
    title = f"Verification {'approved' if approved else 'rejected'}: {request.goated_name}"
    body = (
        f"You are now linked to the Goated player {request.goated_name}."
        if approved
        else f"We could not confirm that {request.goated_name} is yours. {reason}".strip()
    )
    event = "verification.approved" if approved else "verification.rejected"
    if user is not None:
        notify(user, event, title=title, body=body, dedupe_key=f"verif:{request.pk}")
    elif request.telegram_id:
        notify_telegram_chat(request.telegram_id, event, title=title, body=body)


def verification_approve(request_id: int, *, actor, source: str = AuditEntry.Source.SERVICE) -> VerificationRequest:
    return _decide(request_id, actor=actor, approve=True, reason="", source=source)


def verification_reject(
    request_id: int, *, actor, reason: str = "", source: str = AuditEntry.Source.SERVICE
) -> VerificationRequest:
    """Refuse a claim; the reason is shown to the requester."""
    return _decide(request_id, actor=actor, approve=False, reason=(reason or "").strip(), source=source)


def user_player_unlink(user: User, *, actor, source: str = AuditEntry.Source.SERVICE) -> bool:
    """Detach the Goated player from an account (wrong approval, account sold...); the user can claim again. The
    approval behind the link is revoked with it, so neither the site nor the bot acts as the player any more, and
    the player is free to be claimed."""
    if user.player_id is None:
        return False
    with transaction.atomic():
        before = {"player": user.player_id, "verification_status": user.verification_status}
        User.objects.filter(pk=user.pk).update(player=None, verification_status=User.VerificationStatus.UNVERIFIED)
        VerificationRequest.objects.filter(player_id=user.player_id, status=VerificationRequest.Status.APPROVED).update(
            status=VerificationRequest.Status.REVOKED
        )
        audit_record(
            actor=actor,
            action="user.player_unlink",
            target=user,
            before=before,
            after={"player": None, "verification_status": User.VerificationStatus.UNVERIFIED},
            source=source,
        )
    user.player_id, user.verification_status = None, User.VerificationStatus.UNVERIFIED
    return True
