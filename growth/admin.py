from datetime import UTC, timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin
from growth.models import Campaign, ReferralClickDay
from growth.selectors import campaigns_with_clicks, referral_link

RECENT_DAYS = 30


@admin.register(Campaign)
class CampaignAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "link", "clicks_recent", "created_by", "created_at")
    search_fields = ("slug", "name", "note")
    readonly_fields = ("link", "created_by", "created_at")
    fields = ("slug", "name", "note", "link", "created_by", "created_at")
    list_select_related = ("created_by",)

    def get_queryset(self, request):
        since = timezone.now().astimezone(UTC).date() - timedelta(days=RECENT_DAYS - 1)
        return campaigns_with_clicks(super().get_queryset(request), since)

    @admin.display(description="link to share")
    def link(self, obj: Campaign) -> str:
        if obj.pk is None:  # the add page (and a refused form's slug is not a link)
            return "–"
        url = referral_link(obj.slug)
        return format_html('<input type="text" readonly value="{}" size="{}" aria-label="Link for {}">',
                           url, len(url), obj.slug)  # fmt: skip

    @admin.display(description=f"clicks, last {RECENT_DAYS} days", ordering="clicks_recent")
    def clicks_recent(self, obj: Campaign) -> int:
        return getattr(obj, "clicks_recent", 0)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReferralClickDay)
class ReferralClickDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "campaign_shown", "clicks", "unique_visitors")
    list_filter = ("day",)
    date_hierarchy = "day"
    search_fields = ("campaign",)

    @admin.display(description="campaign", ordering="campaign")
    def campaign_shown(self, obj: ReferralClickDay) -> str:
        return obj.campaign or "(plain /go/)"
