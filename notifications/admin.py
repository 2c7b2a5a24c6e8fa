from django.contrib import admin

from core.admin import AuditedAdminMixin
from notifications.models import BotUser, NewsletterSubscription, Notification, NotificationPreferences


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


@admin.register(NewsletterSubscription)
class NewsletterSubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("email", "is_subscribed", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("is_subscribed", "source")
    search_fields = ("email",)
    readonly_fields = ("subscribed_at", "unsubscribed_at")
