"""Raffle pages: the list, a raffle (live tickets, winners, Enter for giveaways) and its verify page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.errors import ServiceError
from core.models import AuditEntry
from giveaways import selectors, services
from giveaways.api import ENTER_RATE
from giveaways.models import Raffle
from races.prizes import prize_table
from vip.selectors import reward_refusal

LEADERS = 25


def _page_number(request: HttpRequest) -> str:
    page = request.GET.get("page", "1")
    return page if page.isdigit() else "1"


def raffle_index(request: HttpRequest) -> HttpResponse:
    past = Paginator(selectors.raffle_list(status=Raffle.Status.DRAWN), 12).get_page(_page_number(request))
    context = {
        "open": selectors.raffles_open(),
        "upcoming": list(selectors.raffle_list(status=Raffle.Status.UPCOMING).order_by("starts_at")[:10]),
        "past": past,
    }
    return render(request, "giveaways/index.html", context)


def _raffle(raffle_id: int) -> Raffle:
    raffle = selectors.raffle_get(raffle_id)
    if raffle is None:
        raise Http404("No such raffle")
    return raffle


def raffle_detail(request: HttpRequest, raffle_id: int) -> HttpResponse:
    raffle = _raffle(raffle_id)
    user = request.user
    player = getattr(user, "player", None) if user.is_authenticated else None
    entries = selectors.raffle_entries(raffle)
    mine = next((row for row in entries if player is not None and row.player_id == player.pk), None)
    prizes = prize_table(raffle.prize_pool, raffle.prize_distribution)
    context = {
        "raffle": raffle,
        "ended": raffle.status == Raffle.Status.OPEN and raffle.has_ended(timezone.now()),
        "leaders": sorted(entries, key=lambda row: (-row.tickets, row.uid))[:LEADERS],
        "entries_count": len(entries),
        "tickets_total": sum(row.tickets for row in entries),
        "winners": selectors.raffle_winners(raffle),
        "prizes": [{"position": k, "amount": v} for k, v in sorted(prizes.items())],
        "mine": mine,
        "refusal": reward_refusal(user) if user.is_authenticated else None,
    }
    return render(request, "giveaways/detail.html", context)


@login_required
@require_POST
@ratelimit(group="raffle-enter", key="user_or_ip", rate=ENTER_RATE, method="POST", block=True)
def raffle_enter(request: HttpRequest, raffle_id: int) -> HttpResponse:
    try:
        services.raffle_enter(raffle_id, request.user, source=AuditEntry.Source.API)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "You're in: one ticket. Good luck!")
    return redirect("giveaways:detail", raffle_id=raffle_id)


def raffle_verify(request: HttpRequest, raffle_id: int) -> HttpResponse:
    raffle = _raffle(raffle_id)
    drawn = raffle.status == Raffle.Status.DRAWN
    entries = selectors.raffle_entries(raffle) if drawn else []
    data = {
        "server_seed": raffle.seed_revealed,
        "server_seed_hash": raffle.server_seed_hash,
        "entries_digest": raffle.entries_digest if drawn else None,
        "winners_count": raffle.winners_count,
        "entries": [{"uid": row.uid, "tickets": row.tickets} for row in entries],
        "winners": [{"position": w.position, "uid": w.uid} for w in selectors.raffle_winners(raffle)],
    }
    context = {"raffle": raffle, "drawn": drawn, "entries": entries, "data": data}
    return render(request, "giveaways/verify.html", context)
