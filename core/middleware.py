"""Request-level guards: unstorable input is refused early, staff prove a second factor first, headers."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string

from core import metrics
from core.api import error_body
from core.text import unstorable


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(error_body(400, message, "invalid"), status=400)
    html = render_to_string("errors/400.html", {"message": message}, request=None)
    return HttpResponse(html, status=400)


class RejectUnstorableInputMiddleware:
    """A NUL byte (or a lone surrogate) in the path, the query or a form field is a 400 here, before any view
    passes it to the database, where PostgreSQL would refuse it with an error page (JSON bodies are checked by
    the API's parser)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if unstorable(request.path_info):
            return _bad_request(request, "The address contains characters that are not allowed.")
        if any(unstorable(k) or unstorable(v) for k, values in request.GET.lists() for v in [k, *values]):
            return _bad_request(request, "The query contains characters that are not allowed.")
        content_type = request.content_type or ""
        # Page forms only: the API reads JSON alone (its parser checks the text), and reading a body here would
        # take it away from DRF, which answers a form body with 415.
        is_form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        if request.method == "POST" and is_form and not request.path.startswith("/api/"):
            try:
                fields = list(request.POST.lists())
            except Exception:  # a body Django cannot parse: let the view answer its own 400
                fields = []
            if any(unstorable(k) or unstorable(v) for k, values in fields for v in [k, *values]):
                return _bad_request(request, "The form contains characters that are not allowed.")
        return self.get_response(request)


# What a staff member signed in with a password may open before proving the second factor: the second-factor pages
# themselves, signing out, the API's token endpoint (it reads no session), health checks and files.
_OPEN_BEFORE_SECOND_FACTOR = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/admin/login/",
    "/admin/logout/",
    "/admin/jsi18n/",
    "/api/v1/auth/token/",
    "/static/",
    "/favicon.ico",
    "/healthz",
    "/readyz",
    "/metrics",
)


class StaffTwoFactorMiddleware:
    """With STAFF_2FA on, a staff session carries nothing until a TOTP code (or a recovery code) is proven in it:
    every page (the support desk sees every ticket, admin everything) sends the member to the second factor first
    (to enrol, without a device), and the API answers 403 `two_factor_required` to the session. Staff powers are
    the account's, not the page's: there is no "staff signed in as a player" half-way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.STAFF_2FA and not request.path.startswith(_OPEN_BEFORE_SECOND_FACTOR):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.is_staff and not user.is_verified():
                return self._second_factor_first(request)
        return self.get_response(request)

    @staticmethod
    def _second_factor_first(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            message = "Staff accounts prove the second factor first: /accounts/2fa/ on the site."
            return JsonResponse(error_body(403, message, "two_factor_required"), status=403)
        return HttpResponseRedirect("/accounts/2fa/?" + urlencode({"next": request.get_full_path()}))


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: Permissions-Policy (no camera, microphone, location, payment...)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class MetricsMiddleware:
    """Counts every request by route (the URL pattern, not the raw path), method and status, and times it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.http_request_record(metrics.route_of(request), request.method, response.status_code, started)
        return response
