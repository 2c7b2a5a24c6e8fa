from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from core.ratelimit import client_ip
from experiments.models import Goal
from experiments.web import conversion_from_request
from growth.selectors import click_countable, referral_target
from growth.services import referral_click_record


@require_safe
def go(request: HttpRequest, slug: str = "") -> HttpResponse:
    """`/go/` and `/go/<slug>/`: 302 to REFERRAL_URL with the campaign's utm_* added, counting a person's click
    (docs/analytics.md, "Referral clicks"). Never cached anywhere, so every click reaches the counter."""
    if click_countable(request.method, request.headers):
        visitor = f"{client_ip(request)}\n{request.headers.get('User-Agent', '')}"
        referral_click_record(slug, visitor)
        conversion_from_request(request, Goal.REFERRAL_CLICK)  # only a visitor who accepted analytics
    response = HttpResponseRedirect(referral_target(slug, request.GET))
    add_never_cache_headers(response)  # private, no-store: no proxy or browser answers a click for us
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
