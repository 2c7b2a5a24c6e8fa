from django import forms
from django.contrib import admin, messages

from goatedvips.admin import AuditedAdminMixin
from goatedvips.errors import ServiceError
from support.models import SupportTicket, TicketMessage


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
        fields = ["subject", "description", "status", "priority", "assigned_to", "user"]


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
    actions = ["assign_to_me", "close"]
    search_fields = ("subject", "description", "user__username", "user__email")
    list_select_related = ("user", "assigned_to")
    raw_id_fields = ("user", "assigned_to")
    readonly_fields = ("created_at", "updated_at", "closed_at")
    inlines = [TicketMessageInline]
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reply = (form.cleaned_data.get("reply") or "").strip()
        if reply:
            from support.services import ticket_message_post

            try:
                ticket_message_post(obj, request.user, reply)
            except ServiceError as exc:
                messages.error(request, f"Reply not sent: {exc.message}")

    def _update(self, request, queryset, done: str, **change):
        from support.services import ticket_update

        count = 0
        for ticket in queryset:
            try:
                ticket_update(ticket, actor=request.user, **change)
                count += 1
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        self.message_user(request, f"{done}: {count} ticket(s).")

    @admin.action(description="Assign selected tickets to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._update(request, queryset, "Assigned to you", assign_to=request.user)

    @admin.action(description="Close selected tickets", permissions=["change"])
    def close(self, request, queryset):
        self._update(request, queryset, "Closed", status=SupportTicket.Status.CLOSED)


@admin.register(TicketMessage)
class TicketMessageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "author", "is_staff_reply", "created_at")
    list_filter = ("is_staff_reply",)
    search_fields = ("body", "author__username", "ticket__subject")
    list_select_related = ("ticket", "author")
    raw_id_fields = ("ticket", "author")
    readonly_fields = ("is_staff_reply", "created_at")
