from django.contrib import admin

from vip.models import BonusCode, BonusCodeClaim, VipTier, WheelSegment, WheelSpin


@admin.register(VipTier)
class VipTierAdmin(admin.ModelAdmin):
    list_display = ("name", "min_wager", "color")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class BonusCodeClaimInline(admin.TabularInline):
    model = BonusCodeClaim
    extra = 0
    fields = ("user", "claimed_at")
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(BonusCode)
class BonusCodeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "amount",
        "required_wager",
        "claims_count",
        "claim_limit",
        "expires_at",
        "is_active",
        "audience",
        "source",
    )
    list_filter = ("is_active", "audience", "source")
    search_fields = ("code", "description", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("claims_count", "created_by", "created_at")
    inlines = [BonusCodeClaimInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BonusCodeClaim)
class BonusCodeClaimAdmin(admin.ModelAdmin):
    list_display = ("code", "user", "claimed_at")
    search_fields = ("code__code", "user__username")
    list_select_related = ("code", "user")
    raw_id_fields = ("code", "user")
    readonly_fields = ("claimed_at",)
    date_hierarchy = "claimed_at"


@admin.register(WheelSegment)
class WheelSegmentAdmin(admin.ModelAdmin):
    list_display = ("position", "label", "weight", "reward_amount", "is_active")
    list_editable = ("weight", "is_active")
    list_filter = ("is_active",)
    search_fields = ("label",)


@admin.register(WheelSpin)
class WheelSpinAdmin(admin.ModelAdmin):
    list_display = ("spin_date", "user", "segment", "roll", "reward_code", "created_at")
    list_filter = ("spin_date", "segment")
    search_fields = ("user__username", "server_seed_hash")
    list_select_related = ("user", "segment", "reward_code")
    raw_id_fields = ("user", "reward_code")
    readonly_fields = (
        "user",
        "spin_date",
        "segment",
        "server_seed",
        "server_seed_hash",
        "client_seed",
        "nonce",
        "roll",
        "reward_code",
        "created_at",
    )
    date_hierarchy = "created_at"
