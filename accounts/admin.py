from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm

from accounts.models import NewsletterSubscription, Notification, NotificationPreferences, User
from accounts.services import user_player_unlink, user_set_active
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
    actions = ["ban", "unban", "unlink_player"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "profile_color", "show_stats")}),
        (
            "Goated & Telegram",
            {"fields": ("player", "verification_status", "email_verified", "telegram_id", "telegram_username")},
        ),
        ("Activity", {"fields": ("last_active",)}),
    )

    @admin.action(description="Ban selected accounts (deactivate, revoke API tokens)", permissions=["change"])
    def ban(self, request, queryset):
        # Never lock yourself out by selecting your own row.
        changed = [
            u for u in queryset.exclude(pk=request.user.pk) if user_set_active(u, active=False, actor=request.user)
        ]
        self.message_user(request, f"Banned: {len(changed)} account(s).")

    @admin.action(description="Reinstate selected accounts", permissions=["change"])
    def unban(self, request, queryset):
        changed = [u for u in queryset if user_set_active(u, active=True, actor=request.user)]
        self.message_user(request, f"Reinstated: {len(changed)} account(s).")

    @admin.action(description="Unlink the Goated player of selected accounts", permissions=["change"])
    def unlink_player(self, request, queryset):
        changed = [u for u in queryset if user_player_unlink(u, actor=request.user)]
        self.message_user(request, f"Unlinked: {len(changed)} account(s).")


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


@admin.register(NewsletterSubscription)
class NewsletterSubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("email", "is_subscribed", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("is_subscribed", "source")
    search_fields = ("email",)
    readonly_fields = ("subscribed_at", "unsubscribed_at")
