"""Overlay pages read no cookie and set none (issue 34): an OBS browser source is not a visitor.

Placed before the session middleware, this drops the request's cookies for `/overlay/` paths, so no middleware
after it (sessions, CSRF, authentication, staff second factor, last-active, messages) can read a session or a
token from one, and answers carry no `Set-Cookie` and no `Vary: Cookie` (they cannot depend on a cookie).
Whatever a later change might set on the way out is dropped too.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

PREFIX = "/overlay/"


class CookielessOverlayMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        request.META.pop("HTTP_COOKIE", None)
        request.__dict__.pop("COOKIES", None)  # a cached property: read again, from nothing
        response = self.get_response(request)
        for name in list(response.cookies):
            del response.cookies[name]
        # The answer cannot depend on cookies it never saw (the session middleware adds this when a later
        # middleware looks at the empty session, e.g. for request.user).
        vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip() and v.strip().lower() != "cookie"]
        if vary:
            response["Vary"] = ", ".join(vary)
        elif "Vary" in response:
            del response["Vary"]
        return response
