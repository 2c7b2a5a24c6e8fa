from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import TelegramLinkToken, User, VerificationRequest
from accounts.selfexclusion import self_exclusion_lift
from accounts.services import user_player_unlink, user_set_active, verification_approve, verification_reject
from accounts.two_factor import two_factor_reset
from core.admin import AuditedAdminMixin, action_each, action_with_form
from core.models import AuditEntry
from core.money import money_text
from notifications.models import NotificationPreferences

# Authenticator devices are not edited in admin (their secrets must not be shown): a superuser resets a staff
# member's second factor with the user action, and the member enrols again.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class NotificationPreferencesInline(admin.StackedInline):
    model = NotificationPreferences
    can_delete = False
    extra = 0
    readonly_fields = ("updated_at",)


RESPONSIBLE_PLAY = (
    "Responsible play and terms",
    {"fields": ("self_excluded_until", "adult_confirmed_at", "terms_version", "terms_accepted_at")},
)


class LiftForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Why the player's break ends early (kept in the audit log), e.g. “Started by mistake, confirmed by "
        "phone with the player”.",
    )


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
    readonly_fields = ("last_login", "date_joined", "last_active", "player", "verification_status",
                       "self_excluded_until", "terms_version", "terms_accepted_at", "adult_confirmed_at")  # fmt: skip
    inlines = [NotificationPreferencesInline]
    actions = ["ban", "unban", "unlink_player", "reset_two_factor", "lift_self_exclusion"]
    SUPERUSER_ACTIONS = ("reset_two_factor", "lift_self_exclusion")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "profile_color", "show_stats")}),
        (
            "Goated & Telegram",
            {"fields": ("player", "verification_status", "email_verified", "telegram_id", "telegram_username")},
        ),
        ("Activity", {"fields": ("last_active",)}),
        RESPONSIBLE_PLAY,
    )

    # --- who may change whom: only superusers manage staff accounts and the fields that grant power ----------

    # What a non-superuser (an Operator) sees of an account: nothing that grants rights (superuser, staff,
    # groups, permissions), no password screen; the Telegram id (it signs people in) and the email (it resets
    # the password) read-only.
    operator_fieldsets = (
        (None, {"fields": ("username", "email", "first_name", "last_name")}),
        ("Profile", {"fields": ("display_name", "bio", "profile_color", "show_stats")}),
        (
            "Goated & Telegram",
            {"fields": ("player", "verification_status", "email_verified", "telegram_id", "telegram_username")},
        ),
        ("Activity", {"fields": ("is_active", "last_login", "date_joined", "last_active")}),
        RESPONSIBLE_PLAY,
    )
    operator_readonly = ("username", "email", "telegram_id", "telegram_username", "is_active")

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser or obj is None:
            return super().get_fieldsets(request, obj)
        return self.operator_fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in self.operator_readonly if f not in fields]
        return fields

    @staticmethod
    def _is_staff_account(obj) -> bool:
        return obj is not None and (obj.is_staff or obj.is_superuser)

    def has_change_permission(self, request, obj=None):
        if self._is_staff_account(obj) and not request.user.is_superuser:
            return False  # staff accounts are managed by superusers only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._is_staff_account(obj) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied  # players reset their own password by email; staff passwords are superusers'
        return super().user_change_password(request, id, form_url)

    @staticmethod
    def _players_only(request, queryset):
        """Actions of non-superusers touch player accounts only (never staff), and nobody acts on themselves."""
        queryset = queryset.exclude(pk=request.user.pk)
        return queryset if request.user.is_superuser else queryset.filter(is_staff=False, is_superuser=False)

    @admin.action(description="Ban selected accounts (deactivate, revoke API tokens)", permissions=["change"])
    def ban(self, request, queryset):
        changed = [
            u
            for u in self._players_only(request, queryset)
            if user_set_active(u, active=False, actor=request.user, source=AuditEntry.Source.ADMIN)
        ]
        self.message_user(request, f"Banned: {len(changed)} account(s).")

    @admin.action(description="Reinstate selected accounts", permissions=["change"])
    def unban(self, request, queryset):
        changed = [
            u
            for u in self._players_only(request, queryset)
            if user_set_active(u, active=True, actor=request.user, source=AuditEntry.Source.ADMIN)
        ]
        self.message_user(request, f"Reinstated: {len(changed)} account(s).")

    @admin.action(description="Unlink the Goated player of selected accounts", permissions=["change"])
    def unlink_player(self, request, queryset):
        changed = [
            u
            for u in self._players_only(request, queryset)
            if user_player_unlink(u, actor=request.user, source=AuditEntry.Source.ADMIN)
        ]
        self.message_user(request, f"Unlinked: {len(changed)} account(s).")

    @admin.action(description="Reset two-factor sign-in (lost phone; superusers only)")
    def reset_two_factor(self, request, queryset):
        if not request.user.is_superuser:
            raise PermissionDenied
        for user in queryset:
            two_factor_reset(user, actor=request.user)
        self.message_user(request, f"Two-factor sign-in reset for {queryset.count()} account(s); they enrol again.")

    @admin.action(description="Lift the self-exclusion early, with a reason (superusers only)")
    def lift_self_exclusion(self, request, queryset):
        if not request.user.is_superuser:
            raise PermissionDenied  # not even an operator: the service refuses too

        def run(data):
            action_each(
                self, request, queryset,
                lambda u: self_exclusion_lift(u, actor=request.user, reason=data["reason"]),
                "Lifted the self-exclusion of", "account", idle=lambda u: f"{u}: no self-exclusion in force.",
            )  # fmt: skip

        return action_with_form(
            self, request, LiftForm, run, queryset=queryset, title="Lift self-exclusions early",
            intro="A break cannot be shortened; lift one only when it must end (audited with the reason).",
            submit_label="Lift",
        )  # fmt: skip

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            for name in self.SUPERUSER_ACTIONS:
                actions.pop(name, None)
        return actions


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

    # Compact columns so status and date stay on a 1280 px screen beside the filters (tested in Chromium).
    list_display = (
        "goated_name",
        "requester",
        "feed_player",
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

    @admin.display(description="Requester", ordering="user__username")
    def requester(self, obj):
        return f"{obj.user} · @{obj.telegram_username}" if obj.telegram_username else str(obj.user)

    @admin.display(description="Feed player", ordering="player__name")
    def feed_player(self, obj):
        return obj.player.name if obj.player else "–"

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
        def run(data):
            reason = data["reason"]
            self._decide(
                request,
                queryset,
                lambda pk: verification_reject(pk, actor=request.user, reason=reason, source=AuditEntry.Source.ADMIN),
                "Rejected",
            )

        return action_with_form(
            self, request, RejectForm, run, queryset=queryset, title="Reject verification requests",
            intro="The reason is sent to each requester.", submit_label="Reject",
        )  # fmt: skip


@admin.register(TelegramLinkToken)
class TelegramLinkTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "nonce", "expires_at", "used_at", "created_at")

    def has_add_permission(self, request):
        return False
