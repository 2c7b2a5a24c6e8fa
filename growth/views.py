from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from core.ratelimit import client_ip
from experiments.models import Goal
from experiments.web import analytics_consented, conversion_from_request
from growth.attribution import campaign_cookie_set
from growth.selectors import click_countable, referral_target
from growth.services import referral_click_record


@require_safe
def go(request: HttpRequest, slug: str = "") -> HttpResponse:
    """`/go/` and `/go/<slug>/`: 302 to REFERRAL_URL with the campaign's utm_* added, counting a person's click
    (docs/analytics.md, "Referral clicks"). Never cached anywhere, so every click reaches the counter.

    Constant cost whatever the traffic so far: the count is cache operations only (no query), the campaign is
    remembered in a cookie (no query), and a visitor who accepted analytics and sees a running experiment costs one
    read of their exposures and at most one write (the conversion): one write or none."""
    countable = click_countable(request.method, request.headers)
    if countable:
        visitor = f"{client_ip(request)}\n{request.headers.get('User-Agent', '')}"
        referral_click_record(slug, visitor)
        conversion_from_request(request, Goal.REFERRAL_CLICK)  # only a visitor who accepted analytics
    response = HttpResponseRedirect(referral_target(slug, request.GET))
    # Remembered for attribution (the account's touch, or the visitor's signed cookie: growth.attribution) only for a
    # visitor who accepted analytics cookies: before that, functional cookies only (docs/experiments.md, "Consent").
    # Always the cookie, signed in or not: the account takes it at its next sign-in or when it asks to link a player
    # on the site (growth.attribution.user_signed_in), so a click never writes to the database.
    if countable and analytics_consented(request):
        campaign_cookie_set(response, slug, timezone.now())
    add_never_cache_headers(response)  # private, no-store: no proxy or browser answers a click for us
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
