"""The request side of experiments: consent, the visitor cookie, and which variant a page's slot shows
(docs/experiments.md).

- Consent is the `gv_consent` cookie, written by static/js/consent.js when the visitor answers the cookie notice:
  `granted` (analytics accepted) or `denied`. It is a functional cookie (it remembers the answer).
- Only with `granted` does a page with a slot give the visitor an id: a random token in the signed first-party
  cookie `gv_vid` (HttpOnly, SameSite=Lax, 180 days). The database sees only an HMAC of it.
- Without consent (no answer, refused, a tampered cookie), and under /api/ and /overlay/, the slot shows the
  control and nothing is logged or set. The fast path and the anonymous page cache answer only cookieless
  requests, so they only ever hold the control (goatedvips/pagecache.py: any cookie goes to Django), and an
  answer made for a consenting visitor carries Set-Cookie or Vary: Cookie with Cache-Control: private.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from experiments import services
from experiments.assignment import variant_for
from experiments.selectors import plan_live, slot_plan

CONSENT_COOKIE = "gv_consent"
CONSENT_GRANTED = "granted"
VISITOR_COOKIE = "gv_vid"
VISITOR_SALT = "experiments.visitor"
VISITOR_MAX_AGE = 180 * 24 * 3600
_VISITOR_ID = re.compile(r"\A[A-Za-z0-9_-]{22}\Z")
_COOKIELESS_PREFIXES = ("/api/", "/overlay/")


def analytics_consented(request: HttpRequest) -> bool:
    return request.COOKIES.get(CONSENT_COOKIE) == CONSENT_GRANTED and not request.path.startswith(_COOKIELESS_PREFIXES)


def visitor_hash(visitor_id: str) -> str:
    """What the database keeps of a visitor: an HMAC of the cookie's id under SECRET_KEY."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"experiments-visitor:{visitor_id}".encode(), hashlib.sha256
    ).hexdigest()


def _cookie_id(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(VISITOR_COOKIE, default=None, salt=VISITOR_SALT, max_age=VISITOR_MAX_AGE)
    return value if value and _VISITOR_ID.match(value) else None


def visitor_id(request: HttpRequest, *, create: bool = False) -> str | None:
    """The consenting visitor's id (made now when `create` and they have none yet: the page sets the cookie),
    or None without consent."""
    if not analytics_consented(request):
        return None
    if "_experiments_visitor" not in request.__dict__:
        request._experiments_visitor = _cookie_id(request)
    if request._experiments_visitor is None and create:
        request._experiments_visitor = request._experiments_new_visitor = secrets.token_urlsafe(16)
    return request._experiments_visitor


def request_visitor_hash(request: HttpRequest) -> str | None:
    vid = visitor_id(request)
    return visitor_hash(vid) if vid else None


def slot_variant(request: HttpRequest, slot: str) -> dict | None:
    """The content a page's slot shows this request: the visitor's variant of the running experiment (logging the
    exposure once), the control without consent, the pinned winner after a stop, or None (the page's own text)."""
    plan = slot_plan(slot)
    if plan is None:
        return None
    if "pinned" in plan:
        return plan["pinned"]
    variants = plan["variants"]
    if not plan_live(plan):
        return variants[0][3]
    vid = visitor_id(request, create=True)
    if vid is None:
        return variants[0][3]
    chosen = variant_for(vid, plan["key"], [(key, weight) for _pk, key, weight, _content in variants])
    pk, _key, _weight, content = next(v for v in variants if v[1] == chosen)
    services.exposure_record(plan["id"], pk, visitor_hash(vid))
    request._experiments_personal = True
    return content


def visitor_cookie_apply(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set the new visitor's cookie; drop the cookie of a visitor who withdrew consent; keep a page made for one
    visitor out of shared caches."""
    new = request.__dict__.get("_experiments_new_visitor")
    if new:
        response.set_signed_cookie(
            VISITOR_COOKIE, new, salt=VISITOR_SALT, max_age=VISITOR_MAX_AGE, httponly=True, samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )  # fmt: skip
    elif VISITOR_COOKIE in request.COOKIES and not analytics_consented(request):
        response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
    if request.__dict__.get("_experiments_personal"):
        patch_cache_control(response, private=True)
        patch_vary_headers(response, ["Cookie"])
    return response


def experiment_page(view):
    """A view whose page has a slot: applies the visitor cookie rules to its answer."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return visitor_cookie_apply(request, view(request, *args, **kwargs))

    return wrapped


def conversion_from_request(request: HttpRequest, goal: str) -> int:
    """The consenting visitor of this request reached `goal` (no consent or no cookie: nothing)."""
    visitor = request_visitor_hash(request)
    return services.conversion_record(visitor, goal) if visitor else 0
