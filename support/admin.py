"""The support inbox in the back office: it opens on the open, unassigned tickets, oldest wait first; a ticket is
a read-only conversation with the player's context beside it and buttons (Reply, Reply & close, Assign to me) that
call support.services, which audit each step once. Canned replies are kept by operators and inserted in the reply
box by static/js/admin-canned-replies.js."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from accounts.models import User
from core.admin import (
    AuditedAdminMixin,
    DefaultListFilter,
    ReadOnlyAdminMixin,
    action_each,
    action_with_form,
    form_refusal,
)
from core.errors import ServiceError
from core.models import AuditEntry
from core.roles import SUPPORT
from support import selectors
from support.models import CannedReply, SupportTicket, TicketMessage
from support.services import MESSAGE_MAX, ticket_assign, ticket_close, ticket_message_post, ticket_reopen

S = SupportTicket.Status


class TicketStatusFilter(DefaultListFilter):
    """The inbox opens on tickets still to be answered or finished (open or in progress)."""

    title = "status"
    parameter_name = "status"
    default = "waiting"

    def lookups(self, request, model_admin):
        return [("waiting", "Open or in progress"), *S.choices]

    def filter(self, request, queryset, value):
        if value == "waiting":
            return queryset.exclude(status=S.CLOSED)
        return queryset.filter(status=value)


class AssignmentFilter(DefaultListFilter):
    """The inbox opens on the tickets nobody has taken; "Mine" is one click away."""

    title = "assignment"
    parameter_name = "assigned"
    default = "none"

    def lookups(self, request, model_admin):
        return [("none", "Unassigned"), ("me", "Mine")]

    def filter(self, request, queryset, value):
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset.filter(assigned_to=request.user)


class ReplyForm(forms.Form):
    """The reply box: the only field of the ticket page (the player's words are never a form field)."""

    body = forms.CharField(
        label="Your reply", max_length=MESSAGE_MAX, required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "reply-box"}),
    )  # fmt: skip


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), help_text="Support staff who take the tickets.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(is_active=True, is_staff=True).filter(
            Q(is_superuser=True) | Q(groups__name=SUPPORT)
        )
        self.fields["assignee"].queryset = staff.distinct().order_by("username")


# The buttons of the ticket page: the POST key of each, and whether it sends the reply box.
STEPS = {"_reply": "reply", "_reply_close": "reply_close", "_assign_me": "assign_me"}


@admin.register(SupportTicket)
class SupportTicketAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "subject", "user", "status_pill", "priority", "assigned_to", "waiting")
    list_display_links = ("id", "subject")
    list_filter = (TicketStatusFilter, AssignmentFilter, "priority")
    actions = ["assign_to_me", "assign", "close", "reopen"]
    search_fields = ("subject", "description", "user__username", "user__email")
    list_select_related = ("user", "assigned_to")
    change_form_template = "admin/support/supportticket/change_form.html"

    class Media:
        css = {"all": ("css/admin-queues.css",)}

    def has_add_permission(self, request):
        return False  # players open tickets (site, API); staff answer them here

    def get_queryset(self, request):
        # Annotated before it is ordered: the inbox sorts on the waiting time.
        return selectors.tickets_with_wait(SupportTicket.objects.all()).order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["player_last_at", "pk"]  # the longest wait first

    @admin.display(description="Status", ordering="status")
    def status_pill(self, ticket):
        return format_html('<span class="pill ticket-{}">{}</span>', ticket.status, ticket.get_status_display())

    @admin.display(description="Waiting", ordering="player_last_at")
    def waiting(self, ticket):
        """Since the player's last word, while it is unanswered; "answered" once staff replied after it."""
        if ticket.status == S.CLOSED:
            return "–"
        if ticket.staff_last_at and ticket.staff_last_at >= ticket.player_last_at:
            return format_html('<span class="quiet">answered {} ago</span>', timesince(ticket.staff_last_at))
        return format_html('<time datetime="{}">{}</time>', ticket.player_last_at.isoformat(),
                           timesince(ticket.player_last_at, timezone.now()))  # fmt: skip

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, extra_context={"title": "Support inbox", **(extra_context or {})})

    # --- the ticket page -------------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, ticket):
            raise PermissionDenied
        can_act = self.has_change_permission(request, ticket)
        form = ReplyForm()
        if request.method == "POST":
            if not can_act:
                raise PermissionDenied
            form = ReplyForm(request.POST)
            step = next((STEPS[key] for key in STEPS if key in request.POST), None)
            if step is not None and form.is_valid():
                try:
                    return self._step(request, ticket, step, form.cleaned_data["body"])
                except ServiceError as exc:
                    form_refusal(form, exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"#{ticket.pk} {ticket.subject}",
            "subtitle": None,
            "opts": self.opts,
            "original": ticket,
            "ticket": ticket,
            "thread": selectors.ticket_thread(ticket),
            "about": selectors.ticket_player_context(ticket),
            "form": form,
            "can_act": can_act,
            "mine": ticket.assigned_to_id == request.user.pk,
            "canned": list(selectors.canned_replies()) if can_act else [],
            "media": self.media,
            "has_view_permission": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def _step(self, request, ticket, step: str, body: str):
        """One button, one service call, one audit entry; back to the ticket, or to the inbox once it is closed."""
        admin_source = AuditEntry.Source.ADMIN
        if step == "assign_me":
            ticket_assign(ticket, actor=request.user, assignee=request.user, source=admin_source)
            self.message_user(request, f"Ticket #{ticket.pk} is yours.", messages.SUCCESS)
            return redirect(request.path)
        if not body.strip():
            raise ServiceError("Write a reply first.", fields={"body": ["Write a reply first."]})
        close = step == "reply_close"
        ticket_message_post(ticket, request.user, body, close=close, source=admin_source)
        if close:
            self.message_user(request, f"Replied to #{ticket.pk} and closed it.", messages.SUCCESS)
            return redirect(reverse("admin:support_supportticket_changelist"))
        self.message_user(request, f"Reply sent to {ticket.user.public_name}.", messages.SUCCESS)
        return redirect(request.path)

    # --- bulk actions on the inbox ----------------------------------------------------------------------------

    def _each(self, request, queryset, change, done: str) -> None:
        action_each(self, request, queryset, change, done, "ticket")

    @admin.action(description="Assign selected tickets to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._each(
            request, queryset,
            lambda t: ticket_assign(t, actor=request.user, assignee=request.user, source=AuditEntry.Source.ADMIN),
            "Assigned to you",
        )  # fmt: skip

    @admin.action(description="Assign selected tickets to…", permissions=["change"])
    def assign(self, request, queryset):
        def run(data):
            assignee = data["assignee"]
            self._each(
                request, queryset,
                lambda t: ticket_assign(t, actor=request.user, assignee=assignee, source=AuditEntry.Source.ADMIN),
                f"Assigned to {assignee}",
            )  # fmt: skip

        return action_with_form(
            self, request, AssignForm, run, queryset=queryset, title="Assign tickets",
            intro="Who takes these tickets?", submit_label="Assign",
        )  # fmt: skip

    @admin.action(description="Close selected tickets", permissions=["change"])
    def close(self, request, queryset):
        self._each(
            request, queryset, lambda t: ticket_close(t, actor=request.user, source=AuditEntry.Source.ADMIN), "Closed"
        )

    @admin.action(description="Reopen selected tickets", permissions=["change"])
    def reopen(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: ticket_reopen(t, actor=request.user, source=AuditEntry.Source.ADMIN),
            "Reopened",
        )


@admin.register(TicketMessage)
class TicketMessageAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """A thread is a record: messages are written by their authors (site, API, the reply box of a ticket), never
    edited here."""

    list_display = ("ticket", "author", "is_staff_reply", "created_at")
    list_filter = ("is_staff_reply",)
    search_fields = ("body", "author__username", "ticket__subject")
    list_select_related = ("ticket", "author")
    readonly_fields = ("ticket", "author", "body", "is_staff_reply", "created_at")


@admin.register(CannedReply)
class CannedReplyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Ready answers for the reply box: operators write them, support staff pick them on a ticket."""

    list_display = ("title", "updated_at")
    search_fields = ("title", "body")
    fields = ("title", "body")
