from django.contrib import admin

from telegram_bot.models import VerificationRequest


@admin.register(VerificationRequest)
class VerificationRequestAdmin(admin.ModelAdmin):
    list_display = ("goated_name", "user", "telegram_username", "player", "source", "status", "requested_at")
    list_filter = ("status", "source")
    search_fields = ("goated_name", "telegram_username", "user__username", "=player__uid")
    list_select_related = ("user", "player", "decided_by")
    raw_id_fields = ("user", "player")
    readonly_fields = ("requested_at", "decided_by", "decided_at")
    date_hierarchy = "requested_at"
