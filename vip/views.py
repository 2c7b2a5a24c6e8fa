"""Reward pages: VIP ladder, bonus codes, the daily wheel and its public verify page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from core.errors import ServiceError
from vip import selectors, services
from vip.api import CLAIM_RATE, SPIN_RATE


def vip_ladder(request: HttpRequest) -> HttpResponse:
    return render(request, "vip/ladder.html", {"vip": selectors.vip_ladder(request.user)})


@login_required
def bonus_codes(request: HttpRequest) -> HttpResponse:
    context = {"codes": selectors.bonus_codes_for(request.user), "refusal": selectors.reward_refusal(request.user)}
    return render(request, "vip/bonus_codes.html", context)


@login_required
@require_POST
@ratelimit(group="bonus-claim", key="user_or_ip", rate=CLAIM_RATE, method="POST", block=True)
def bonus_code_claim(request: HttpRequest, code: str) -> HttpResponse:
    try:
        claim = services.bonus_code_claim(request.user, code)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Claimed {claim.code.code}: ${claim.code.amount} — use it on Goated.")
    return redirect("vip:bonus-codes")


@login_required
def wheel(request: HttpRequest) -> HttpResponse:
    state = services.wheel_state(request.user)
    spin = state.today_spin
    prizes = selectors.wheel_prizes(state.segments)
    context = {
        "state": state,
        "prizes": prizes,
        "total_weight": sum(p.weight for p in prizes),
        "spin": spin,
        "hit": next((p for p in prizes if spin and spin.segment.position in p.positions), None),
        "next_spin_in": wait_text(datetime.fromisoformat(state.next_spin_at) - timezone.now())
        if state.next_spin_at
        else "",
        "reward_days": services.WHEEL_REWARD_DAYS,
        "history": selectors.wheel_history(request.user, 7),
    }
    return render(request, "vip/wheel.html", context)


def wait_text(left: timedelta) -> str:
    """`5 h 12 m` until the next spin (static/js/wheel.js writes the same as it counts down)."""
    minutes = max(0, int(left.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} m"
    return f"{minutes} m" if minutes else "less than a minute"


@login_required
@require_POST
@ratelimit(group="wheel-spin", key="user_or_ip", rate=SPIN_RATE, method="POST", block=True)
def wheel_spin(request: HttpRequest) -> HttpResponse:
    """The no-JavaScript path (the page's script calls the API and animates). The wheel page shows the result
    card of today's spin, so a success needs no message of its own."""
    try:
        services.wheel_spin(request.user, request.POST.get("client_seed"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("vip:wheel")


def wheel_verify(request: HttpRequest) -> HttpResponse:
    """Anyone can recompute a spin from its revealed server seed, client seed and nonce."""
    context: dict = {"form": request.GET}
    if {"server_seed", "client_seed", "nonce"} <= set(request.GET):
        seed, client, nonce = (
            request.GET["server_seed"].strip(),
            request.GET["client_seed"].strip(),
            request.GET["nonce"],
        )
        if not seed or len(seed) > 128 or len(client) > 64 or not nonce.isdigit() or int(nonce) > 10**9:
            context["error"] = "Enter the server seed, your client seed (up to 64 characters) and the nonce (a number)."
        else:
            try:
                context["result"] = selectors.wheel_verify(seed, client, int(nonce))
            except ServiceError as exc:
                context["error"] = exc.message
    return render(request, "vip/verify.html", context, status=400 if context.get("error") else 200)
