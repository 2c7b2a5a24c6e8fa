from django.contrib import admin

from support.models import SupportTicket, TicketMessage


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
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "user", "status", "priority", "assigned_to", "updated_at")
    list_filter = ("status", "priority")
    search_fields = ("subject", "description", "user__username", "user__email")
    list_select_related = ("user", "assigned_to")
    raw_id_fields = ("user", "assigned_to")
    readonly_fields = ("created_at", "updated_at", "closed_at")
    inlines = [TicketMessageInline]
    date_hierarchy = "created_at"


@admin.register(TicketMessage)
class TicketMessageAdmin(admin.ModelAdmin):
    list_display = ("ticket", "author", "is_staff_reply", "created_at")
    list_filter = ("is_staff_reply",)
    search_fields = ("body", "author__username", "ticket__subject")
    list_select_related = ("ticket", "author")
    raw_id_fields = ("ticket", "author")
    readonly_fields = ("is_staff_reply", "created_at")
