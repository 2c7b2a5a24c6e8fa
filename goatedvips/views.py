"""Site-wide views: home page, error pages, the rate-limit response."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from goatedvips.api import error_body
from races import selectors as race_selectors
from races.leaderboard import leaderboard_top


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def home(request: HttpRequest) -> HttpResponse:
    from races.race_selectors import race_standings

    race = race_selectors.race_current()
    podium = race_standings(race, limit=3)[1] if race and race.is_live else []
    mvps = [(label, (leaderboard_top(period, 1) or [None])[0]) for period, label in MVP_PERIODS]
    context = {"race": race, "podium": podium, "mvps": mvps, "top_players": leaderboard_top(limit=10)}
    return render(request, "home.html", context)


MVP_PERIODS = [("today", "Today"), ("weekly", "This week"), ("monthly", "This month")]


def static_page(request: HttpRequest, template: str) -> HttpResponse:
    return render(request, f"pages/{template}.html")


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


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(500, "Something went wrong on our side.", "server_error"), status=500)
    return render(request, "errors/500.html", status=500)
