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


# --- sign-up, email verification, Goated account claims, newsletter -------------------------------------------

EMAIL_VERIFY_SALT = "accounts.email-verify"
EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600
NEWSLETTER_SALT = "accounts.newsletter-unsubscribe"


class VerificationLinkInvalid(ServiceError):
    code = "invalid_link"


class ClaimRefused(ServiceError):
    code = "claim_refused"


def user_register(*, username: str, email: str, password: str, request: HttpRequest | None = None) -> User:
    """Create the account (inputs already validated by the form) and send the email-verification link."""
    from django.db import transaction

    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        NotificationPreferences.objects.create(user=user)
    email_verification_send(user, request)
    return user


def email_verification_token(user: User) -> str:
    from django.core import signing

    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=EMAIL_VERIFY_SALT, compress=True)


def email_verification_send(user: User, request: HttpRequest | None) -> None:
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

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
    from django.core import signing

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


def goated_claim_request(user: User, goated_name: str):
    """A site user's claim to own a Goated player: checked against the feed, then queued for staff review."""
    from telegram_bot.services import verification_request_create

    if user.verification_status == User.VerificationStatus.PENDING:
        raise ClaimRefused("You already have a request waiting for review; staff will answer it soon.")
    request = verification_request_create(user=user, goated_name=goated_name)
    user.verification_status = User.VerificationStatus.PENDING
    return request


def newsletter_subscribe(email: str, *, source: str = "site") -> tuple[object, bool]:
    """Subscribe (or re-subscribe) an address; returns (subscription, newly_subscribed)."""
    from django.utils import timezone

    from accounts.models import NewsletterSubscription

    email = email.strip().lower()
    sub, created = NewsletterSubscription.objects.get_or_create(email=email, defaults={"source": source})
    if created:
        return sub, True
    if sub.is_subscribed:
        return sub, False
    sub.is_subscribed, sub.unsubscribed_at, sub.subscribed_at = True, None, timezone.now()
    sub.save(update_fields=["is_subscribed", "unsubscribed_at", "subscribed_at"])
    return sub, True


def newsletter_unsubscribe_token(email: str) -> str:
    from django.core import signing

    return signing.dumps(email.strip().lower(), salt=NEWSLETTER_SALT)


def newsletter_unsubscribe(token: str) -> str:
    """One-click unsubscribe from the signed link in every newsletter; returns the address."""
    from django.core import signing
    from django.utils import timezone

    from accounts.models import NewsletterSubscription

    try:
        email = signing.loads(token, salt=NEWSLETTER_SALT)
    except signing.BadSignature:
        raise VerificationLinkInvalid("This unsubscribe link is not valid.") from None
    NewsletterSubscription.objects.filter(email=email, is_subscribed=True).update(
        is_subscribed=False, unsubscribed_at=timezone.now()
    )
    return email


# --- staff actions on accounts (admin), each audited -------------------------------------------------------------


def user_set_active(user: User, *, active: bool, actor, source: str = "admin") -> bool:
    """Ban (deactivate) or reinstate an account; a banned user's sessions and API token stop working."""
    from django.db import transaction

    from goatedvips.audit import audit_record

    if user.is_active == active:
        return False
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        if not active:
            Token.objects.filter(user=user).delete()
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


def user_player_unlink(user: User, *, actor, source: str = "admin") -> bool:
    """Detach the Goated player from an account (wrong approval, account sold...); the user can claim again."""
    from django.db import transaction

    from goatedvips.audit import audit_record

    if user.player_id is None:
        return False
    with transaction.atomic():
        before = {"player": user.player_id, "verification_status": user.verification_status}
        User.objects.filter(pk=user.pk).update(player=None, verification_status=User.VerificationStatus.UNVERIFIED)
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


def notification_create(user: User, *, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = ""):
    """An in-site notification, pushed to the user's open sockets after commit. Idempotent per dedupe_key."""
    from django.db import transaction

    from accounts import realtime
    from accounts.models import Notification

    if dedupe_key:
        note, created = Notification.objects.get_or_create(
            user=user, dedupe_key=dedupe_key, defaults={"kind": kind, "title": title, "body": body, "url": url}
        )
    else:
        note, created = Notification.objects.create(user=user, kind=kind, title=title, body=body, url=url), True
    if created:
        transaction.on_commit(lambda: realtime.notification_announce(note))
    return note
