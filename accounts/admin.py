from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm

from accounts.models import NewsletterSubscription, TelegramLinkToken, User, VerificationRequest
from accounts.services import user_player_unlink, user_set_active, verification_approve, verification_reject
from core.admin import AuditedAdminMixin, action_each, action_form_page
from core.models import AuditEntry
from core.money import money_text
from notifications.models import NotificationPreferences


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
    # The Goated player and the verification status change only through verification (approve, reject,
    # unlink), which keeps the two in step and writes the audit log.
    readonly_fields = ("last_login", "date_joined", "last_active", "player", "verification_status")
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
            u
            for u in queryset.exclude(pk=request.user.pk)
            if user_set_active(u, active=False, actor=request.user, source=AuditEntry.Source.ADMIN)
        ]
        self.message_user(request, f"Banned: {len(changed)} account(s).")

    @admin.action(description="Reinstate selected accounts", permissions=["change"])
    def unban(self, request, queryset):
        changed = [
            u for u in queryset if user_set_active(u, active=True, actor=request.user, source=AuditEntry.Source.ADMIN)
        ]
        self.message_user(request, f"Reinstated: {len(changed)} account(s).")

    @admin.action(description="Unlink the Goated player of selected accounts", permissions=["change"])
    def unlink_player(self, request, queryset):
        changed = [u for u in queryset if user_player_unlink(u, actor=request.user, source=AuditEntry.Source.ADMIN)]
        self.message_user(request, f"Unlinked: {len(changed)} account(s).")


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Shown to the player (site notification and Telegram), e.g. “The wagers do not match”.",
    )


@admin.register(VerificationRequest)
class VerificationRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The review queue. Every field is read-only: a request is decided with the approve / reject actions, which
    link the player, tell the requester and write the audit log, the same as the bot's /approve and /reject."""

    list_display = (
        "goated_name",
        "user",
        "telegram_username",
        "player",
        "feed_month",
        "feed_all_time",
        "source",
        "status",
        "requested_at",
    )
    list_filter = ("status", "source")
    search_fields = ("goated_name", "telegram_username", "user__username", "=player__uid")
    list_select_related = ("user", "player", "decided_by")
    readonly_fields = (
        "goated_name",
        "user",
        "telegram_id",
        "telegram_username",
        "player",
        "source",
        "status",
        "admin_notes",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    date_hierarchy = "requested_at"
    actions = ["approve", "reject"]

    @admin.display(description="Feed: this month")
    def feed_month(self, obj):
        return money_text(obj.player.wager_month) if obj.player else "not in feed"

    @admin.display(description="Feed: all time")
    def feed_all_time(self, obj):
        return money_text(obj.player.wager_all_time) if obj.player else "–"

    def has_add_permission(self, request):
        return False  # requests come from players (site form, bot /verify)

    def has_delete_permission(self, request, obj=None):
        return False  # a decided request is the record of why an account is linked

    def _decide(self, request, queryset, decide, done: str) -> None:
        action_each(self, request, queryset, lambda r: decide(r.pk), done, "request")

    @admin.action(description="Approve selected requests (links the player, notifies the user)", permissions=["change"])
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda pk: verification_approve(pk, actor=request.user, source=AuditEntry.Source.ADMIN),
            "Approved",
        )

    @admin.action(description="Reject selected requests with a reason (notifies the user)", permissions=["change"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return action_form_page(
                self, request, queryset, form=form, action="reject", title="Reject verification requests",
                intro="The reason is sent to each requester.", submit_label="Reject",
            )  # fmt: skip
        reason = form.cleaned_data["reason"]
        self._decide(
            request,
            queryset,
            lambda pk: verification_reject(pk, actor=request.user, reason=reason, source=AuditEntry.Source.ADMIN),
            "Rejected",
        )
        return None


@admin.register(NewsletterSubscription)
class NewsletterSubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("email", "is_subscribed", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("is_subscribed", "source")
    search_fields = ("email",)
    readonly_fields = ("subscribed_at", "unsubscribed_at")


@admin.register(TelegramLinkToken)
class TelegramLinkTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "nonce", "expires_at", "used_at", "created_at")

    def has_add_permission(self, request):
        return False
