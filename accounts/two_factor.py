"""Staff two-factor authentication (TOTP, django-otp): enrolment with recovery codes, and the per-session check.

A staff member enrols once: an authenticator app scans a QR code, a first code confirms the device, and ten
single-use recovery codes are shown once. From then on, with STAFF_2FA on, admin opens only after a code from
the app (or a recovery code) in the session (core.middleware.StaffTwoFactorMiddleware).
"""

from __future__ import annotations

import base64

import segno
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from core.audit import audit_record
from core.errors import ServiceError

RECOVERY_CODES = 10
_APP_DEVICE = "authenticator app"
_RECOVERY_DEVICE = "recovery codes"


class CodeRefused(ServiceError):
    code = "otp_invalid"


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


def two_factor_verify(request, token: str) -> None:
    """Prove the second factor for this session with an app code or an unused recovery code."""
    user = request.user
    token = (token or "").replace(" ", "").strip()
    if token:
        for device in TOTPDevice.objects.filter(user=user, confirmed=True):
            _throttle_check(device)
            if token.isdigit() and device.verify_token(token):
                otp_login(request, device)
                return
        for device in StaticDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(token):  # a recovery code works once (django-otp deletes it)
                audit_record(actor=user, action="user.2fa_recovery_code_used", target=user)
                otp_login(request, device)
                return
    raise CodeRefused("That code did not match. Enter the current code from your app, or a recovery code.")


def two_factor_reset(user: User, *, actor) -> None:
    """A superuser removes a staff member's devices (lost phone): the next admin sign-in enrols again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, action="user.2fa_reset", target=user)
