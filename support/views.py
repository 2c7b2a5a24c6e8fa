"""Support pages: my tickets, open one, the live thread."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_ratelimit.decorators import ratelimit

from core.errors import ServiceError
from core.roles import is_support_staff
from support import selectors, services
from support.api import MESSAGE_RATE, TICKET_RATE
from support.models import SupportTicket


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = selectors.ticket_visible_to(request.user).select_related("user").order_by("-updated_at", "-pk")
    page = Paginator(tickets, 20).get_page(request.GET.get("page"))
    return render(request, "support/list.html", {"pages": page, "staff": is_support_staff(request.user)})


@login_required
@ratelimit(group="ticket-open", key="user_or_ip", rate=TICKET_RATE, method="POST", block=True)
def ticket_new(request: HttpRequest) -> HttpResponse:
    values, errors = {"priority": "medium"}, {}
    if request.method == "POST":
        values = request.POST
        try:
            ticket = services.ticket_open(
                request.user,
                subject=values.get("subject", ""),
                description=values.get("description", ""),
                priority=values.get("priority", "medium"),
            )
        except ServiceError as exc:
            errors = exc.fields or {"form": [exc.message]}
        else:
            messages.success(request, "Ticket opened. We usually answer within a day.")
            return redirect("support:detail", ticket_id=ticket.pk)
    context = {"values": values, "errors": errors, "priorities": SupportTicket.Priority.choices}
    return render(request, "support/new.html", context, status=400 if errors else 200)


@login_required
@ratelimit(group="ticket-message", key="user_or_ip", rate=MESSAGE_RATE, method="POST", block=True)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_visible_to(request.user).filter(pk=ticket_id).select_related("user").first()
    if ticket is None:
        raise Http404("No such ticket")  # also for someone else's: existence is not revealed
    draft, error = "", None
    if request.method == "POST":
        draft = request.POST.get("body", "")
        try:
            services.ticket_message_post(ticket, request.user, draft)
        except ServiceError as exc:
            error = exc.message  # shown with the text kept in the box: nothing typed is lost
        else:
            return redirect("support:detail", ticket_id=ticket.pk)
    # What a message shows: its text and its author's signature (whole user rows are thirty columns each).
    shown = ("ticket", "body", "is_staff_reply", "created_at", "author__display_name", "author__username")
    thread = ticket.messages.select_related("author").only(*shown).order_by("created_at", "pk")
    context = {"ticket": ticket, "thread": thread, "draft": draft, "error": error}
    return render(request, "support/detail.html", context, status=400 if error else 200)
