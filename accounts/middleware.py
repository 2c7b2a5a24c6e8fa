"""Middleware of accounts: the terms gate (accounts.terms has the rule).

Apart from accounts.terms because the API's error body (core.api) loads DRF, whose settings load
accounts.authentication, which needs accounts.terms: the rule must load without DRF.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from accounts.terms import OPEN_BEFORE_TERMS, TERMS_PATH, terms_pending, terms_refusal
from core.api import error_body


class TermsGateMiddleware:
    """A signed-in player who has not accepted the current terms sees the terms page first (pages), or 403
    `terms_not_accepted` (the API with a session). API tokens are checked by accounts.authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not request.path.startswith(OPEN_BEFORE_TERMS) and terms_pending(user):
            if request.path.startswith("/api/"):
                refusal = terms_refusal(user)
                return JsonResponse(error_body(403, refusal.message, refusal.code), status=403)
            return HttpResponseRedirect(f"{TERMS_PATH}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
