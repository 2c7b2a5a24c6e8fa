"""The overlay page `/overlay/<token>/<kind>/` and its poll `data.json` (DESIGN §7).

No cookie, no session, no sign-in (overlays.middleware drops the request's cookies), `Cache-Control: no-store`
and a CSP of their own: scripts from 'self' only, no inline style either (the page sets its colours through
CSSOM from the data island). An unknown or revoked token, or a token with another kind's path, is a plain 404:
no site template, which would read the session and set the CSRF cookie.
"""

from __future__ import annotations

from csp.decorators import csp
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from overlays import selectors

OVERLAY_CSP = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'", "ws:", "wss:"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _not_found() -> HttpResponse:
    return _no_store(HttpResponseNotFound("Not found.\n", content_type="text/plain; charset=utf-8"))


@require_safe
@csp(OVERLAY_CSP)
def overlay_page(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    link = selectors.overlay_link_active(token, kind)
    if link is None:
        return _not_found()
    island = {
        "socket": f"/ws/overlay/{token}/",
        "poll": f"/overlay/{token}/{kind}/data.json",
        "data": selectors.overlay_data(link),
    }
    # Rendered without the request: no context processor runs (they would read the user and the session).
    html = render_to_string("overlays/overlay.html", {"island": island, "kind": kind})
    return _no_store(HttpResponse(html))


@require_safe
@csp(OVERLAY_CSP)
def overlay_data(request: HttpRequest, token: str, kind: str) -> HttpResponse:
    """What the socket's snapshot carries, for a page whose socket is down."""
    link = selectors.overlay_link_active(token, kind)
    if link is None:
        return _not_found()
    return _no_store(JsonResponse(selectors.overlay_data(link)))
