"""Site-wide views: home page, error pages, the rate-limit response."""

from __future__ import annotations

import hmac
import logging
import sys
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django_ratelimit.decorators import ratelimit
from prometheus_client import CONTENT_TYPE_LATEST

from core.api import error_body
from core.csv_export import csv_text
from core.metrics import metrics_text
from core.ratelimit import client_ip, password_braked, posted_username
from experiments.models import Slot
from experiments.web import experiment_page, slot_variant
from goatedvips.analytics import CHARTS, PERIODS, TABLES, analytics_charts
from races.feed.leaderboard import leaderboard_top
from races.selectors.races import (
    RacePosition,
    StandingRow,
    podium_tier_colors,
    race_current,
    race_here,
    race_next,
    race_standings,
)

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


@experiment_page
def home(request: HttpRequest) -> HttpResponse:
    race = race_current() or race_next()
    podium = race_standings(race, limit=3)[1] if race and race.is_live else []
    mvps = [(label, (leaderboard_top(period, 1) or [None])[0]) for period, label in MVP_PERIODS]
    player_id = request.user.player_id if request.user.is_authenticated else None
    here = race_here(race, player_id) if race and race.is_live else None
    context = {
        "race": race, "podium": podium, "mvps": mvps, "top_players": leaderboard_top(limit=10),
        "podium_colors": podium_tier_colors(podium),
        "position": here["position"] if here else None, "linked": player_id is not None,
    }  # fmt: skip
    # The hero's text may be an experiment's (docs/experiments.md): the control for anyone without consent.
    context["hero"] = slot_variant(request, Slot.HOME_HERO) or {}
    return render(request, "home.html", context)


MVP_PERIODS = [("today", "Today"), ("weekly", "This week"), ("monthly", "This month")]


ADMIN_LOGIN_RATE = "10/m"


@ratelimit(group="admin-login", key="ip", rate=ADMIN_LOGIN_RATE, method="POST", block=True)
@password_braked(posted_username)
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin sign-in page with two brakes on guessing: per client address, and per username whatever the
    address and the entry point (core.ratelimit.password_brake: stopped at the 11th try in a minute)."""
    return admin.site.login(request)


@password_braked(lambda request: request.user.get_username())
def _admin_password_change(request: HttpRequest) -> HttpResponse:
    return admin.site.password_change(request)


# The current password is a password typed: the same per-username brake as the sign-in forms (after admin's own
# checks, so only a signed-in staff member's own username is counted).
admin_password_change = admin.site.admin_view(_admin_password_change, cacheable=True)


def moved_admin(request: HttpRequest, old: str, rest: str, moves: dict[str, str]) -> HttpResponse:
    """An admin page of a model that moved apps: send the browser to the same page under the new app."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(f"/admin/{moves[old]}/{rest}" + (f"?{query}" if query else ""))


@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon (its URL changes with it)."""
    return HttpResponseRedirect(static("favicon.svg"))


def static_page(request: HttpRequest, template: str) -> HttpResponse:
    return render(request, f"pages/{template}.html")


TOKENS = ["--bg", "--panel", "--panel-2", "--line", "--text", "--muted", "--brand", "--ok", "--warn", "--bad", "--live"]


def styleguide(request: HttpRequest) -> HttpResponse:
    """Every component of the design system on one page (docs/site.md), with DEBUG on only: a 404 in production."""
    if not settings.DEBUG:
        raise Http404("No such page")
    now = timezone.now()
    rows = [StandingRow(rank, f"u{rank}", f"Player{rank}", Decimal(9000 - rank * 700), Decimal(prize), True)
            for rank, prize in ((1, "500"), (2, "300"), (3, "200"), (4, "0"))]  # fmt: skip
    context = {
        "tokens": TOKENS,
        "rows": rows,
        "until": now + timedelta(days=2, hours=5, minutes=12),
        "position": RacePosition(row=rows[3], around=rows, target=rows[2]),
        "race": {"standings_total": 282, "min_wager": Decimal("1000")},
    }
    return render(request, "pages/styleguide.html", context)


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = "Too many requests. Please wait a minute and try again."
    if _wants_json(request):
        return JsonResponse(error_body(429, message, "rate_limited"), status=429)
    return render(request, "errors/429.html", {"message": message}, status=429)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(404, "Not found."), status=404)
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(403, "You do not have permission to do that."), status=403)
    return render(request, "errors/403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(400, "Bad request."), status=400)
    return render(request, "errors/400.html", status=400)


# The page of last resort: no template, no context processor, nothing that reads the cache or the database.
PLAIN_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="font-family:sans-serif;'
    'max-width:40rem;margin:3rem auto;padding:0 1rem"><h1>Something went wrong on our side</h1><p>Please try again '
    'in a minute.</p><p><a href="/">Back to the home page</a></p></body></html>'
)


# How long a client should wait before trying again when the database does not answer (a restart, a failover).
DATABASE_RETRY_AFTER_SECONDS = 5


def _database_unavailable(exc: BaseException | None) -> bool:
    """The database did not answer: it is down or restarting, the pool had no connection within DB_POOL_TIMEOUT
    (psycopg_pool's PoolTimeout, which Django wraps as OperationalError) or a pooled connection died with it."""
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500, called inside the except block of the failed request. A database that does not answer
    is not a bug of ours but a passing outage: 503 with Retry-After, from a page that needs no database."""
    if _database_unavailable(sys.exc_info()[1]):
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        message = "The site is restarting part of itself; please try again in a few seconds."
        if _wants_json(request):
            return JsonResponse(error_body(503, message, "unavailable"), status=503, headers=headers)
        html = render_to_string("errors/503.html", {"SITE_NAME": settings.SITE_NAME})
        return HttpResponse(html, status=503, headers=headers)
    if _wants_json(request):
        return JsonResponse(error_body(500, "Something went wrong on our side.", "server_error"), status=500)
    try:
        return render(request, "errors/500.html", status=500)
    except Exception:
        # The error page's own context (feature switches, through the cache) can fail for the reason the page
        # failed (Redis away during a failover). An exception here would leave Django for the server, skipping
        # the request's end, and the database connection it holds would never go back to the pool.
        logger.exception("the 500 page could not be rendered; answering the plain one")
        return HttpResponse(PLAIN_500, status=500)


def analytics_csv(request: HttpRequest, key: str) -> HttpResponse:
    """One dashboard chart's numbers as CSV (?days=30|90): the same builder as the chart; or one of the tables
    (`referral-clicks`: day, campaign, clicks, unique visitors)."""
    if not request.user.has_perm(TABLES[key][0] if key in TABLES else "races.view_wagerrace"):
        raise PermissionDenied
    if key not in CHARTS and key not in TABLES:
        raise Http404("No such chart")
    raw = request.GET.get("days", str(PERIODS[0]))
    if raw not in {str(p) for p in PERIODS}:
        return HttpResponse(f"days must be one of {', '.join(map(str, PERIODS))}.\n", status=400,
                            content_type="text/plain; charset=utf-8")  # fmt: skip
    if key in TABLES:
        rows = TABLES[key][1](int(raw), timezone.now())
    else:
        (chart,) = analytics_charts(int(raw), keys=[key])
        rows = chart.csv_rows()
    response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}-{raw}d-{timezone.now():%Y%m%d}.csv"'
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text for scrapers: with `Authorization: Bearer $METRICS_TOKEN`, or from an address in
    METRICS_ALLOWED_IPS (loopback by default). Anyone else gets the site's 404: nothing says it exists."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    by_token = bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if not by_token and client_ip(request) not in settings.METRICS_ALLOWED_IPS:
        raise Http404("Not found")
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
