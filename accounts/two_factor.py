"""Staff two-factor authentication (TOTP, django-otp): enrolment with recovery codes, and the per-session check.

A staff member enrols once: an authenticator app scans a QR code, a first code confirms the device, and ten
single-use recovery codes are shown once. From then on, with STAFF_2FA on, a staff session carries nothing (site,
admin, session API) until a code from the app (or a recovery code) is proven in it
(core.middleware.StaffTwoFactorMiddleware), and a staff API token is issued only with a code (`otp`) and is
marked as such: a staff token without the mark (issued before 2FA applied, or while the account was a player's)
signs no one in (accounts.authentication).
"""

from __future__ import annotations

import base64
import secrets

import segno
from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import User
from core.audit import audit_record
from core.errors import Forbidden, ServiceError

RECOVERY_CODES = 10
_APP_DEVICE = "authenticator app"
_RECOVERY_DEVICE = "recovery codes"


class CodeRefused(ServiceError):
    code = "otp_invalid"


class CodeRequired(ServiceError):
    code = "otp_required"


class NotEnrolled(Forbidden):
    code = "two_factor_not_enrolled"


def two_factor_required(user) -> bool:
    """Staff powers need the second factor (STAFF_2FA): every staff account, whatever its groups."""
    return bool(settings.STAFF_2FA and user is not None and user.is_authenticated and user.is_staff)


def two_factor_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _throttle_check(device) -> None:
    """After a wrong code django-otp refuses every code for a while (doubling each time): say so plainly."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise CodeRefused("Too many wrong codes in a row. Wait a few seconds, then enter the current code.")


def totp_device_pending(user: User) -> TOTPDevice:
    """The unconfirmed device an enrolment shows (the same one until it is confirmed, so a reload keeps the QR)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=_APP_DEVICE, confirmed=False)


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as a QR code (an SVG data URI: no third party sees the secret)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#111111", light="#ffffff")


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_confirm(request, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the enrolment with a first code from the app; returns the recovery codes (shown once)."""
    token = (token or "").replace(" ", "")
    _throttle_check(device)
    if not token.isdigit() or not device.verify_token(token):
        raise CodeRefused("That code did not match. Check the time on your phone and enter the current code.")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        StaticDevice.objects.filter(user=device.user).delete()
        recovery = StaticDevice.objects.create(user=device.user, name=_RECOVERY_DEVICE, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
        audit_record(actor=device.user, action="user.2fa_enrolled", target=device.user)
    otp_login(request, device)
    return codes


def two_factor_check(user: User, token: str):
    """The device that accepts `token` (an app code, or an unused recovery code); CodeRefused otherwise."""
    token = (token or "").replace(" ", "").strip()
    if token:
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            _throttle_check(device)
            if token.isdigit() and device.verify_token(token):
                return device
        for device in StaticDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(token):  # a recovery code works once (django-otp deletes it)
                audit_record(actor=user, action="user.2fa_recovery_code_used", target=user)
                return device
    raise CodeRefused("That code did not match. Enter the current code from your app, or a recovery code.")


def two_factor_verify(request, token: str) -> None:
    """Prove the second factor for this session with an app code or an unused recovery code."""
    otp_login(request, two_factor_check(request.user, token))


# --- staff API tokens ---------------------------------------------------------------------------------------------
# A staff token's key carries its own proof: 20 random hex digits, then 20 of an HMAC (SECRET_KEY) of the user
# and those digits. Only staff_token_issue, after a code, writes one; a key DRF generated (or any other) fails.
_HMAC_SALT = "accounts.two_factor.staff-token"


def _token_proof(user_pk: int, nonce: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{user_pk}:{nonce}", algorithm="sha256").hexdigest()[:20]


def staff_token_proven(token: Token) -> bool:
    """Was this token issued after the second factor (to this account)?"""
    nonce, proof = token.key[:20], token.key[20:]
    return len(proof) == 20 and constant_time_compare(proof, _token_proof(token.user_id, nonce))


def staff_token_issue(user: User, otp: str) -> str:
    """A staff API token, only with the second factor: a new one each time, marked as issued after it (the
    account's older tokens stop working)."""
    if not two_factor_enrolled(user):
        raise NotEnrolled("Staff API tokens need the second factor: set it up on the site first (/accounts/2fa/).")
    if not (otp or "").strip():
        raise CodeRequired(
            "This is a staff account: send the current code from your authenticator app as `otp`.",
            fields={"otp": ["Required for staff accounts."]},
        )
    two_factor_check(user, otp)
    nonce = secrets.token_hex(10)
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user, key=nonce + _token_proof(user.pk, nonce))
        audit_record(actor=user, action="user.staff_token_issued", target=user)
    return token.key


def two_factor_reset(user: User, *, actor) -> None:
    """A superuser removes a staff member's devices (lost phone): the next admin sign-in enrols again, and the
    API token issued with the lost device stops working."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        Token.objects.filter(user=user).delete()
        audit_record(actor=actor, action="user.2fa_reset", target=user)
