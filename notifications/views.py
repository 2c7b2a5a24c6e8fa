"""Notification pages: the player's list (mark one or all read), and one-click unsubscribes from emails."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ServiceError
from core.links import is_site_path
from notifications import newsletter, selectors, services

PAGE_SIZE = 20


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    only_unread = request.GET.get("unread") == "1"
    notes = selectors.notifications_for(request.user, unread_only=only_unread)
    pages = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "pages": pages,
        "only_unread": only_unread,
        "unread": selectors.notifications_unread_count(request.user),
        "base_query": "unread=1&" if only_unread else "",
    }
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    services.notifications_mark_read(request.user, ids=[pk])
    target = selectors.notifications_for(request.user).filter(pk=pk).values_list("url", flat=True).first()
    if request.POST.get("open") and target and is_site_path(target):
        # "Open" a notification: mark it read and go where it points, only ever a page of this site (a row
        # written before links were checked may hold "//another.host/").
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_read(request.user, everything=True)
    messages.success(request, f"Marked {count} notification(s) read." if count else "Nothing was unread.")
    return redirect("notifications:list")


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no cookie; the signed link is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":  # mail scanners follow links: unsubscribing needs the button press (or RFC 8058)
        return render(request, "notifications/unsubscribe.html", {"token": token})
    try:
        address, what = services.email_unsubscribe(token)
    except ServiceError as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=400)
    return render(request, "notifications/unsubscribe.html", {"done": address, "what": what})


@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: opening the emailed link shows a Confirm button (mail scanners follow links, so a GET never
    subscribes anyone); pressing it subscribes the address."""
    if request.method != "POST":
        return render(request, "notifications/newsletter_confirm.html", {"token": token})
    try:
        sub = newsletter.newsletter_confirm(token)
    except ServiceError as exc:
        return render(request, "notifications/newsletter_confirm.html", {"error": exc.message}, status=400)
    return render(request, "notifications/newsletter_confirm.html", {"done": sub.email})
