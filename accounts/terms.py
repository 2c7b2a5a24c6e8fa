"""18+ and the terms of use (issue 35): sign-up asks for both; an account that accepted another version (or none,
like every account from before) is asked once at its next sign-in.

`TERMS_VERSION` is the one owner of "which terms are in force": raise it in the same commit as a change of meaning
in templates/pages/terms.html, and every player accepts the new version before going on. Pages send a signed-in
player who has not accepted it to the terms page (accounts.middleware.TermsGateMiddleware); the API answers 403
`terms_not_accepted` to a session or API token until they accept it on the site (an API client cannot accept terms
for a person).
Staff are not asked: the back office is their job, not a player's use of the site.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.audit import audit_record
from core.errors import Forbidden, ServiceError
from core.models import AuditEntry

TERMS_VERSION = "2026-12"
TERMS_PATH = "/accounts/terms/"
# Reachable before accepting: the terms page and what it links to, signing out, taking a break (the bot's link),
# static files, health.
OPEN_BEFORE_TERMS = (TERMS_PATH, "/accounts/logout/", "/accounts/break/", "/terms/", "/privacy/", "/static/",
                     "/healthz", "/readyz", "/favicon.ico", "/robots.txt")  # fmt: skip


class TermsNotAccepted(Forbidden):
    code = "terms_not_accepted"


def terms_pending(user) -> bool:
    """True when `user` (a player, signed in) must accept the current terms before going on."""
    return bool(
        user is not None
        and user.is_authenticated
        and not user.is_staff
        and (user.terms_version != TERMS_VERSION or user.adult_confirmed_at is None)
    )


def terms_refusal(user) -> TermsNotAccepted:
    return TermsNotAccepted(
        f"Accept the terms of use (version {TERMS_VERSION}) and confirm you are 18 or older on the site first: "
        f"sign in at {TERMS_PATH}."
    )


@transaction.atomic
def terms_accept(user: User, *, adult: bool, accepted: bool, now: datetime | None = None,
                 source: str = AuditEntry.Source.SERVICE) -> User:  # fmt: skip
    """Record that `user` is 18 or older and accepts the current terms (both are required)."""
    fields = {}
    if not adult:
        fields["adult"] = ["Confirm that you are 18 or older."]
    if not accepted:
        fields["terms"] = ["Accept the terms of use."]
    if fields:
        raise ServiceError("Confirm that you are 18 or older and accept the terms to use the site.", fields=fields)
    now = now or timezone.now()
    before = {"terms_version": user.terms_version}
    User.objects.filter(pk=user.pk).update(adult_confirmed_at=now, terms_version=TERMS_VERSION, terms_accepted_at=now)
    user.adult_confirmed_at, user.terms_version, user.terms_accepted_at = now, TERMS_VERSION, now
    audit_record(actor=user, action="terms.accept", target=user, before=before,
                 after={"terms_version": TERMS_VERSION}, source=source)  # fmt: skip
    return user
