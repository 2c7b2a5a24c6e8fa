"""Raffles in the back office: create and schedule (audited), cancel before the draw, see and export entries."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse

from core.audit import audit_record, audit_snapshot
from core.csv_export import csv_text
from core.models import AuditEntry
from giveaways import selectors, services
from giveaways.models import Raffle, RaffleEntry, RaffleWinner


class RaffleWinnerInline(admin.TabularInline):
    model = RaffleWinner
    extra = 0
    can_delete = False
    fields = ("position", "uid", "name", "tickets", "prize", "notified_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Raffle)
class RaffleAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "kind", "starts_at", "ends_at", "prize_pool", "winners_count", "entries_count")
    list_filter = ("status",)
    search_fields = ("title",)
    date_hierarchy = "ends_at"
    inlines = [RaffleWinnerInline]
    readonly_fields = ("status", "server_seed_hash", "revealed_seed", "entries_digest", "entries_count",
                       "tickets_total", "drawn_at", "created_by", "created_at")  # fmt: skip
    fieldsets = (
        (None, {"fields": ("title", "description", "starts_at", "ends_at")}),
        (
            "Prizes and tickets",
            {
                "fields": ("prize_pool", "winners_count", "prize_distribution", "ticket_wager", "min_tier"),
                "description": "A ticket wager of 0 makes a giveaway: one ticket to each verified player who enters.",
            },
        ),
        ("Draw", {"fields": readonly_fields}),
    )
    actions = ["cancel_raffles", "export_entries"]

    @admin.display(description="kind")
    def kind(self, raffle: Raffle) -> str:
        return "Giveaway" if raffle.is_giveaway else f"Wager (1 per {raffle.ticket_wager})"

    @admin.display(description="seed (revealed at the draw)")
    def revealed_seed(self, raffle: Raffle) -> str:
        return raffle.seed_revealed or "hidden until the draw"

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != Raffle.Status.UPCOMING:
            # Once open, what decides tickets and prizes is fixed: the seed's commitment is public.
            fields += ["starts_at", "ends_at", "prize_pool", "winners_count", "prize_distribution", "ticket_wager",
                       "min_tier"]  # fmt: skip
        return fields

    def save_model(self, request, obj: Raffle, form, change: bool) -> None:
        before = audit_snapshot(Raffle.objects.get(pk=obj.pk)) if change else None
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="raffle.change" if change else "raffle.create", target=obj,
                     before=before, after=audit_snapshot(obj), source=AuditEntry.Source.ADMIN)  # fmt: skip

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancel instead: the commitment was published

    @admin.action(description="Cancel the selected raffles (before their draw)")
    def cancel_raffles(self, request, queryset) -> None:
        done = sum(services.raffle_cancel(pk, actor=request.user) for pk in queryset.values_list("pk", flat=True))
        skipped = queryset.count() - done
        note = f" {skipped} already drawn or cancelled." if skipped else ""
        self.message_user(request, f"Cancelled {done} raffle(s).{note}", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Export the entries of the selected raffles (CSV)")
    def export_entries(self, request, queryset) -> HttpResponse:
        rows = [("raffle", "uid", "name", "tickets")]
        for raffle in queryset.order_by("pk"):
            rows += [(raffle.pk, row.uid, row.name, row.tickets) for row in selectors.raffle_entries(raffle)]
        response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="raffle-entries.csv"'
        return response


@admin.register(RaffleEntry)
class RaffleEntryAdmin(admin.ModelAdmin):
    list_display = ("raffle", "player", "tickets", "measured", "in_draw", "entered_at")
    list_filter = ("in_draw", "raffle")
    search_fields = ("player__uid", "player__name")
    list_select_related = ("raffle", "player")
    readonly_fields = ("raffle", "player", "user", "baseline_all_time", "measured", "tickets", "in_draw",
                       "entered_at", "updated_at")  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
