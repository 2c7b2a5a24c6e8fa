from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm

from accounts.models import NewsletterSubscription, Notification, NotificationPreferences, User
from goatedvips.admin import AuditedAdminMixin


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class NotificationPreferencesInline(admin.StackedInline):
    model = NotificationPreferences
    can_delete = False
    extra = 0
    readonly_fields = ("updated_at",)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    add_form = SignUpForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),)
    list_display = (
        "username",
        "email",
        "display_name",
        "player",
        "verification_status",
        "telegram_username",
        "is_staff",
        "is_active",
        "last_active",
    )
    list_filter = ("verification_status", "is_staff", "is_active", "email_verified", "groups")
    search_fields = ("username", "email", "display_name", "telegram_username", "player__uid", "player__name")
    list_select_related = ("player",)
    raw_id_fields = ("player",)
    readonly_fields = ("last_login", "date_joined", "last_active")
    inlines = [NotificationPreferencesInline]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "profile_color", "show_stats")}),
        (
            "Goated & Telegram",
            {"fields": ("player", "verification_status", "email_verified", "telegram_id", "telegram_username")},
        ),
        ("Activity", {"fields": ("last_active",)}),
    )


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", *NotificationPreferences.TOGGLES, "updated_at")
    list_filter = ("email_notifications", "push_notifications", "promotional_offers")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "read_at", "dedupe_key")
    date_hierarchy = "created_at"


@admin.register(NewsletterSubscription)
class NewsletterSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("email", "is_subscribed", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("is_subscribed", "source")
    search_fields = ("email",)
    readonly_fields = ("subscribed_at", "unsubscribed_at")
