"""Public pages: leaderboards, races, player profiles. Thin: parse input → selector → template."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import NotFound, ServiceError
from races.feed.leaderboard import PERIODS, leaderboard_around, leaderboard_page
from races.models import LeaderboardPeriod, RaceEntry, WagerRace
from races.selectors import players, races
from races.services.entries import race_join
from vip.selectors import TierTable

BOARD_PAGE_SIZE = 50
SEARCH_MAX = 40
HERE_ROWS = 2  # rows above and below in a "you are here" block
STANDINGS_PAGE = 100  # rows of a race's standings per page


def _my_player(request: HttpRequest) -> int | None:
    """The signed-in user's linked player's id, for "you are here" blocks (None when signed out or unlinked)."""
    user = request.user
    return user.player_id if user.is_authenticated else None


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    # A mangled page number is not worth an error page: show the first page.
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def leaderboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period") or LeaderboardPeriod.MONTHLY.value
    if period not in PERIODS:
        return render(
            request,
            "errors/400.html",
            {"message": f"Unknown period “{period[:20]}”. Choose one of: {', '.join(PERIODS)}."},
            status=400,
        )
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    page_number = _page_number(request)
    if query:
        offset = (page_number - 1) * BOARD_PAGE_SIZE
        found, total = players.leaderboard_search_page(period, query, BOARD_PAGE_SIZE, offset)
        if not found and page_number > 1:
            return redirect(f"{request.path}?{urlencode({'period': period, 'q': query})}")
        rows, updated_at = players.leaderboard_rows(period, found), None
        pages = Paginator(range(total), BOARD_PAGE_SIZE).get_page(page_number)
    else:
        offset = (page_number - 1) * BOARD_PAGE_SIZE
        data = leaderboard_page(period, BOARD_PAGE_SIZE, offset)
        if not data["results"] and page_number > 1:
            return redirect(f"{request.path}?period={period}")
        rows, total, updated_at = data["results"], data["total"], data["updated_at"]
        pages = Paginator(range(total), BOARD_PAGE_SIZE).get_page(page_number)
    context = {
        "period": period,
        "periods": LeaderboardPeriod.choices,
        "rows": rows,
        "total": total,
        "updated_at": updated_at,
        "query": query,
        "pages": pages,
        "tier_colors": TierTable().colors(),
        "live": not query and page_number == 1,
        "here": leaderboard_around(period, None, HERE_ROWS, player_id=me) if (me := _my_player(request)) else None,
    }
    return render(request, "races/leaderboard.html", context)


def race_index(request: HttpRequest) -> HttpResponse:
    archive = Paginator(races.race_archive(), 12).get_page(_page_number(request))
    context = {"live": races.races_live(), "upcoming": races.races_upcoming(), "archive": archive}
    return render(request, "races/index.html", context)


def race_current(request: HttpRequest) -> HttpResponse:
    race_type = request.GET.get("type", WagerRace.Type.MONTHLY)
    if race_type not in WagerRace.Type.values:
        race_type = WagerRace.Type.MONTHLY
    race = races.race_current(race_type)
    if race is None:
        return redirect("races:index")
    return redirect("races:detail", race_id=race.pk)


def race_detail(request: HttpRequest, race_id: int) -> HttpResponse:
    try:
        race = races.race_get(race_id)
    except NotFound:
        raise Http404("No such race") from None
    page = _page_number(request)
    total, standings = races.race_standings(race, limit=STANDINGS_PAGE, offset=(page - 1) * STANDINGS_PAGE)
    if page > 1 and not standings:  # past the last page: the first one, as the leaderboard does
        page, (total, standings) = 1, races.race_standings(race, limit=STANDINGS_PAGE)
    podium = standings[:3] if page == 1 else races.race_standings(race, limit=3)[1]
    here = races.race_here(race, _my_player(request), HERE_ROWS)
    context = {
        "race": race,
        "standings": standings,
        "standings_total": total,
        "standings_from": (page - 1) * STANDINGS_PAGE + 1,
        "standings_to": (page - 1) * STANDINGS_PAGE + len(standings),
        "standings_pages": Paginator(range(total), STANDINGS_PAGE).get_page(page) if total else None,
        "podium": podium,
        "podium_colors": races.podium_tier_colors(podium),
        "prizes": races.race_prize_rows(race),
        "time_left": races.race_time_left(race),
        # Ended by the clock, not yet finalized by the tick: the standings shown are the final ones to be.
        "ended": race.status == WagerRace.Status.LIVE and race.has_ended(timezone.now()),
        "entry": races.race_entry_state(race, request.user),
        "here": here,
        "position": here["position"] if here else None,
    }
    return render(request, "races/detail.html", context)


@login_required
@require_POST
def race_join_view(request: HttpRequest, race_id: int) -> HttpResponse:
    try:
        race_join(race_id, player=request.user.player, user=request.user, source=RaceEntry.Source.SITE)
    except NotFound:
        raise Http404("No such race") from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "You joined the race: your wagers count from now on.")
    return redirect("races:detail", race_id=race_id)


def player_profile(request: HttpRequest, uid: str) -> HttpResponse:
    profile = players.player_profile(uid)
    if profile is None:
        raise Http404("No such player")
    return render(request, "races/player.html", {"p": profile})
