from functools import partial

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path

from core.admin import AuditedAdminMixin, action_with_form, money_column
from core.dates import end_of_day_utc
from core.models import AuditEntry
from vip.models import BonusCode, BonusCodeClaim, VipTier, WheelSegment, WheelSpin
from vip.services import bonus_codes_deactivate, bonus_codes_generate
from vip.tasks import bonus_code_announce_task


@admin.register(VipTier)
class VipTierAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "threshold", "color")
    threshold = money_column("min_wager", "All-time wager from")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class BonusCodeClaimInline(admin.TabularInline):
    model = BonusCodeClaim
    extra = 0
    fields = ("user", "claimed_at")
    readonly_fields = fields
    can_delete = False
    max_num = 0


class BulkGenerateForm(forms.ModelForm):
    """A prefix and a count, and the fields of one code: the model validates them as it validates a single code
    (a ModelForm over the same fields), so generated codes follow the same rules."""

    prefix = forms.RegexField(regex=r"^[A-Za-z0-9]{1,12}$", help_text="1-12 letters or digits, e.g. XMAS")
    count = forms.IntegerField(min_value=1, max_value=1000, initial=10)

    class Meta:
        model = BonusCode
        fields = (
            "amount", "claim_limit", "expires_at", "description", "audience", "min_tier", "required_wager",
            "required_wager_period",
        )  # fmt: skip
        help_texts = {"min_tier": "Only players of this tier and above may see and claim the codes."}

    def __init__(self, *args, **kwargs):
        # A round expiry (the end of the UTC day, 30 days out), not "now" to the second a month ahead.
        kwargs.setdefault("initial", {"claim_limit": 1, "expires_at": end_of_day_utc(30)})
        super().__init__(*args, **kwargs)


@admin.register(BonusCode)
class BonusCodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "amount_text",
        "required_text",
        "claims_count",
        "claim_limit",
        "expires_at",
        "is_active",
        "audience",
        "source",
    )
    list_filter = ("is_active", "audience", "source")
    amount_text = money_column("amount", "Amount")
    required_text = money_column("required_wager", "Required wager")
    search_fields = ("code", "description", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("claims_count", "batch", "created_by", "created_at")
    inlines = [BonusCodeClaimInline]
    actions = ["deactivate"]
    change_list_template = "admin/vip/bonuscode/change_list.html"

    def get_urls(self):
        generate = path("generate/", self.admin_site.admin_view(self.generate_view), name="vip_bonuscode_generate")
        return [generate, *super().get_urls()]

    def generate_view(self, request):
        """Bulk-generate N codes with a prefix, as one batch (operators: needs the add permission)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = forms.modelform_factory(
            BonusCode, form=BulkGenerateForm, fields=BulkGenerateForm.Meta.fields,
            formfield_callback=partial(self.formfield_for_dbfield, request=request),
        )  # fmt: skip

        def run(data):
            codes = bonus_codes_generate(
                prefix=data["prefix"], count=data["count"], amount=data["amount"],
                required_wager=data["required_wager"], required_wager_period=data["required_wager_period"],
                claim_limit=data["claim_limit"], expires_at=data["expires_at"], days_valid=None,
                audience=data["audience"], min_tier=data["min_tier"], description=data["description"],
                actor=request.user, source=AuditEntry.Source.ADMIN,
            )  # fmt: skip
            self.message_user(request, f"Generated {len(codes)} codes: {codes[0].code} … {codes[-1].code}.")
            return redirect(f"../?batch={codes[0].batch}")

        fieldsets = [
            (None, {"fields": ["prefix", "count", "amount", "claim_limit", "expires_at", "description"]}),
            ("Who may claim", {"fields": ["audience", "min_tier", "required_wager", "required_wager_period"]}),
        ]
        return action_with_form(
            self, request, form_class, run, title="Generate bonus codes", template="admin/vip/bonuscode/generate.html",
            context=lambda form: {"adminform": helpers.AdminForm(form, fieldsets, {}),
                                  "media": self.media + form.media},
        )  # fmt: skip

    @admin.action(description="Deactivate selected codes", permissions=["change"])
    def deactivate(self, request, queryset):
        count = bonus_codes_deactivate(
            list(queryset.values_list("pk", flat=True)), actor=request.user, source=AuditEntry.Source.ADMIN
        )
        self.message_user(request, f"Deactivated {count} code(s).")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change and obj.min_tier_id and obj.owner_id is None:
            bonus_code_announce_task.delay_on_commit(obj.pk)  # the tier's players hear of it


@admin.register(BonusCodeClaim)
class BonusCodeClaimAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "user", "claimed_at")
    search_fields = ("code__code", "user__username")
    list_select_related = ("code", "user")
    raw_id_fields = ("code", "user")
    readonly_fields = ("claimed_at",)
    date_hierarchy = "claimed_at"


@admin.register(WheelSegment)
class WheelSegmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("position", "label", "weight", "reward", "is_active")
    reward = money_column("reward_amount", "Reward")
    list_editable = ("weight", "is_active")
    list_filter = ("is_active",)
    search_fields = ("label",)


@admin.register(WheelSpin)
class WheelSpinAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
        "player",
        "segment_table",
        "created_at",
    )
    date_hierarchy = "created_at"
