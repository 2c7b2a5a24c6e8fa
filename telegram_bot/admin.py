from django.contrib import admin, messages

from goatedvips.admin import AuditedAdminMixin
from goatedvips.errors import ServiceError
from goatedvips.models import AuditEntry
from telegram_bot import services
from telegram_bot.models import BotUser, TelegramLinkToken, VerificationRequest


@admin.register(VerificationRequest)
class VerificationRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
    raw_id_fields = ("user", "player")
    readonly_fields = ("requested_at", "decided_by", "decided_at")
    date_hierarchy = "requested_at"
    actions = ["approve", "reject"]

    @admin.display(description="Feed: this month")
    def feed_month(self, obj):
        return obj.player.wager_month if obj.player else "not in feed"

    @admin.display(description="Feed: all time")
    def feed_all_time(self, obj):
        return obj.player.wager_all_time if obj.player else "–"

    def _decide(self, request, queryset, approve: bool):
        done, refused = 0, []
        decide = services.verification_approve if approve else services.verification_reject
        for pk in queryset.values_list("pk", flat=True):
            try:
                decide(pk, actor=request.user, source=AuditEntry.Source.ADMIN)
                done += 1
            except ServiceError as exc:
                refused.append(exc.message)
        if done:
            self.message_user(request, f"{'Approved' if approve else 'Rejected'}: {done} request(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Approve selected requests (links the player, notifies the user)", permissions=["change"])
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Reject selected requests (notifies the user)", permissions=["change"])
    def reject(self, request, queryset):
        self._decide(request, queryset, False)


@admin.register(BotUser)
class BotUserAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("telegram_id", "username", "first_name", "blocked_at", "last_seen")
    list_filter = (("blocked_at", admin.EmptyFieldListFilter),)
    search_fields = ("=telegram_id", "username", "first_name")
    readonly_fields = ("telegram_id", "first_seen", "last_seen")


@admin.register(TelegramLinkToken)
class TelegramLinkTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    readonly_fields = ("user", "nonce", "expires_at", "used_at", "created_at")

    def has_add_permission(self, request):
        return False
