"""API token authentication with an expiry: a token older than API_TOKEN_TTL_DAYS no longer signs anyone in; with
STAFF_2FA on, a staff account's token signs in only if it was issued after the second factor."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.terms import terms_pending, terms_refusal
from accounts.two_factor import staff_token_proven, two_factor_required


def token_expired(token) -> bool:
    return token.created <= timezone.now() - timedelta(days=settings.API_TOKEN_TTL_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed("This token has expired. Get a new one from POST /api/v1/auth/token/.")
        if two_factor_required(user) and not staff_token_proven(token):
            # A token from before 2FA applied (or from when the account was a player's) carries no staff power,
            # and no other: a staff account's token is all or nothing.
            raise AuthenticationFailed(
                "This staff token was issued without the second factor. Get a new one from POST "
                "/api/v1/auth/token/ with `otp`."
            )
        if terms_pending(user):
            # A clear refusal rather than "not signed in": the person accepts the terms on the site, once.
            raise terms_refusal(user)
        return user, token
