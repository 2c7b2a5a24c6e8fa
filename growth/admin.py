from datetime import UTC, timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin
from growth.models import Campaign, CampaignTouch, PlayerAttribution, PlayerWagerSnapshot, ReferralClickDay, VisitDay
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


@admin.register(VisitDay)
class VisitDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "page_views", "unique_visitors")
    date_hierarchy = "day"


@admin.register(CampaignTouch)
class CampaignTouchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "campaign", "clicked_at")
    search_fields = ("campaign", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(PlayerAttribution)
class PlayerAttributionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("player", "campaign", "clicked_at", "attributed_at")
    search_fields = ("campaign", "player__name", "player__uid")
    list_filter = ("campaign",)
    list_select_related = ("player",)
    raw_id_fields = ("player",)


@admin.register(PlayerWagerSnapshot)
class PlayerWagerSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("player", "day", "all_time")
    search_fields = ("player__name", "player__uid")
    date_hierarchy = "day"
    list_select_related = ("player",)
    raw_id_fields = ("player",)
