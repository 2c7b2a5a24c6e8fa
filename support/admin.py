from django import forms
from django.contrib import admin, messages
from django.db.models import Q

from accounts.models import User
from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, action_each, action_with_form
from core.errors import ServiceError
from core.models import AuditEntry
from core.roles import SUPPORT
from support.models import SupportTicket, TicketMessage
from support.services import ticket_assign, ticket_close, ticket_message_post, ticket_reopen


class AssignmentFilter(admin.SimpleListFilter):
    """The support inbox: unassigned, mine, or everything."""

    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("none", "Unassigned"), ("me", "Assigned to me")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        return queryset


class TicketForm(forms.ModelForm):
    reply = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000,
        help_text="Sent to the player as a support reply when you save (live on their open page).",
    )  # fmt: skip

    class Meta:
        model = SupportTicket
        # Status, owner and assignee are not form fields: they change through the actions (assign, close,
        # reopen), which check the transition and write the audit log.
        fields = ["subject", "description", "priority"]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), help_text="Support staff who take the tickets.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(is_active=True, is_staff=True).filter(
            Q(is_superuser=True) | Q(groups__name=SUPPORT)
        )
        self.fields["assignee"].queryset = staff.distinct().order_by("username")


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0
    fields = ("created_at", "author", "is_staff_reply", "body")
    readonly_fields = fields
    can_delete = False
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(SupportTicket)
class SupportTicketAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = TicketForm
    list_display = ("id", "subject", "user", "status", "priority", "assigned_to", "updated_at")
    list_filter = (AssignmentFilter, "status", "priority")
    actions = ["assign_to_me", "assign", "close", "reopen"]
    search_fields = ("subject", "description", "user__username", "user__email")
    list_select_related = ("user", "assigned_to")
    readonly_fields = ("user", "status", "assigned_to", "created_at", "updated_at", "closed_at")
    # The change page reads top to bottom as a conversation: the ticket, its thread (the inline), then "Reply",
    # which templates/admin/support/supportticket/change_form.html renders below the inline.
    fieldsets = [
        (None, {"fields": ["subject", "description", "priority", *readonly_fields]}),
        ("Reply", {"fields": ["reply"]}),
    ]
    inlines = [TicketMessageInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # players open tickets (site, API); staff answer them here

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reply = (form.cleaned_data.get("reply") or "").strip()
        if reply:
            try:
                ticket_message_post(obj, request.user, reply, source=AuditEntry.Source.ADMIN)
            except ServiceError as exc:
                messages.error(request, f"Reply not sent: {exc.message}")

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
