from django.contrib import admin
from django.db.models import Count, Q

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin
from notifications.models import BotUser, Broadcast, BroadcastDelivery, Notification, NotificationPreferences


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", *NotificationPreferences.TOGGLES, "updated_at")
    list_filter = ("email_notifications", "push_notifications", "promotional_offers")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "read_at", "dedupe_key")
    date_hierarchy = "created_at"


@admin.register(BotUser)
class BotUserAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("telegram_id", "username", "first_name", "blocked_at", "last_seen")
    list_filter = (("blocked_at", admin.EmptyFieldListFilter),)
    search_fields = ("=telegram_id", "username", "first_name")
    readonly_fields = ("telegram_id", "first_seen", "last_seen")


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Broadcasts are started from the bot (/broadcast) and sent by a worker: a record, shown with its counts."""

    list_display = ("created_at", "text_start", "channel", "status", "created_by", "sent", "blocked", "failed", "left")
    list_filter = ("status", "channel")
    search_fields = ("text",)
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        S = BroadcastDelivery.Status
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("deliveries", filter=Q(deliveries__status=S.SENT)),
                n_blocked=Count("deliveries", filter=Q(deliveries__status=S.BLOCKED)),
                n_failed=Count("deliveries", filter=Q(deliveries__status=S.FAILED)),
                n_left=Count("deliveries", filter=Q(deliveries__status__in=[S.PENDING, S.SENDING])),
            )
        )

    @admin.display(description="Text")
    def text_start(self, obj):
        return obj.text[:80]

    @admin.display(description="Sent", ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description="Blocked", ordering="n_blocked")
    def blocked(self, obj):
        return obj.n_blocked

    @admin.display(description="Failed", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description="Still to send", ordering="n_left")
    def left(self, obj):
        return obj.n_left
