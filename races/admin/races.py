"""Races in the back office: the race (its lifecycle actions call the services), participants, results, the
archive, progress samples, wager adjustments and opt-in entries."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, action_each, action_with_form, money_column
from core.audit import audit_record
from core.csv_export import csv_lines
from core.errors import ServiceError
from core.models import AuditEntry
from core.money import money_text
from races.models import (
    HistoricalRace,
    Player,
    RaceEntry,
    RaceParticipant,
    RaceProgressSample,
    RaceResult,
    WagerAdjustment,
    WagerRace,
)
from races.prizes import prize_for, prize_table
from races.selectors.races import races_standings_csv_rows
from races.services import lifecycle
from races.services.adjustments import adjustment_approve, adjustment_reject, race_adjust
from races.widgets import PrizeTableWidget


class WagerRaceForm(forms.ModelForm):
    class Meta:
        model = WagerRace
        # No `status`: it changes only through the lifecycle actions (start, finalize, cancel), which do the work
        # a status change needs (baselines, results, prizes, archive) and write the audit log.
        fields = [
            "title",
            "type",
            "recurrence",
            "start_date",
            "end_date",
            "prize_pool",
            "min_wager",
            "prize_distribution",
            "entry",
            "max_participants",
            "min_tier",
            "description",
            "rules",
        ]
        widgets = {"prize_distribution": PrizeTableWidget}
        help_texts = {"prize_distribution": "The percent of the pool each rank wins."}


def prize_text(amount) -> str:
    """A prize as the site shows it: money for a paying rank, "–" for a rank that wins nothing."""
    return money_text(amount) if amount else "–"


def _run_each(modeladmin, request, queryset, action, done: str) -> None:
    """Apply a lifecycle service to each selected race (the service audits it); report successes and refusals."""
    action_each(
        modeladmin, request, queryset,
        lambda race: bool(action(race.pk, actor=request.user, source=AuditEntry.Source.ADMIN)),
        done, "race",
        idle=lambda race: f"{race.title}: nothing to do in status {race.get_status_display().lower()}",
    )  # fmt: skip


@admin.register(WagerRace)
class WagerRaceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = WagerRaceForm
    list_display = ("title", "type", "status", "pool", "start_date", "end_date", "minimum", "recurrence")
    pool = money_column("prize_pool", "Prize pool")
    minimum = money_column("min_wager", "Min wager")
    list_filter = ("status", "type", "recurrence")
    search_fields = ("title", "description")
    date_hierarchy = "start_date"
    readonly_fields = (
        "status",
        "standings_top",
        "prize_preview",
        "went_live_at",
        "completed_at",
        "finalized_at",
        "recurs_from",
        "created_at",
        "updated_at",
    )
    actions = ["start_now", "finalize_now", "cancel", "recompute", "export_csv"]
    fieldsets = (
        (None, {"fields": ("title", "type", "status", "recurrence")}),
        ("Window (UTC)", {"fields": ("start_date", "end_date")}),
        ("Prizes", {"fields": ("prize_pool", "min_wager", "prize_distribution", "prize_preview")}),
        ("Who counts", {"fields": ("entry", "max_participants", "min_tier")}),
        ("Text", {"fields": ("description", "rules")}),
        ("Standings", {"fields": ("standings_top",)}),
        (
            "Audit",
            {
                "classes": ("collapse",),
                "fields": ("went_live_at", "completed_at", "finalized_at", "recurs_from", "created_at", "updated_at"),
            },
        ),
    )

    @admin.display(description="Prize table")
    def prize_preview(self, race):
        """The saved prize table in money (the editor above shows it live while the operator types)."""
        try:
            table = prize_table(race.prize_pool, race.prize_distribution) if race.pk else {}
        except Exception:  # an invalid saved table is shown as such, never a crash
            table = {}
        rows = format_html_join(
            "", "<tr><td>#{}</td><td>{}</td></tr>", ((r, prize_text(a)) for r, a in sorted(table.items()))
        )
        total = money_text(sum(table.values(), Decimal("0")))
        return format_html(
            '<table class="prize-preview"><thead><tr><th>Rank</th><th>Prize</th></tr></thead>'
            "<tbody>{}</tbody><tfoot><tr><th>Total</th><th>{}</th></tr></tfoot></table>",
            rows,
            total,
        )

    @admin.display(description="Top 20")
    def standings_top(self, race):
        """Top of the live standings or of the final results (a race can have 100,000 rows: no inline)."""
        if not race.pk:
            return "—"
        if race.status == WagerRace.Status.COMPLETED:
            rows = RaceResult.objects.filter(race=race).order_by("rank")[:20]
            data = ((r.rank, r.name, r.uid, money_text(r.wagered), prize_text(r.prize)) for r in rows)
            link = reverse("admin:races_raceresult_changelist") + f"?race__id__exact={race.pk}"
        else:
            rows = RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player")
            prizes = prize_table(race.prize_pool, race.prize_distribution)
            data = (
                (p.rank, p.player.name, p.player.uid, money_text(p.wagered),
                 prize_text(prize_for(prizes, p.rank, p.prize_eligible)))
                for p in rows.order_by("rank")[:20]
            )  # fmt: skip
            link = reverse("admin:races_raceparticipant_changelist") + f"?race__id__exact={race.pk}"
        body = format_html_join("", "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", data)
        return format_html(
            "<table><thead><tr><th>Rank</th><th>Player</th><th>UID</th><th>Wagered</th><th>Prize</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">All rows</a></p>',
            body,
            link,
        )

    def get_fieldsets(self, request, obj=None):
        """One prize table on the page: the editor while the table can change, the saved table in money once the
        race is history (its editor is then read-only)."""
        editable = "prize_distribution" not in self.get_readonly_fields(request, obj)
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = options["fields"]
            if editable and "prize_preview" in fields:
                options = {**options, "fields": tuple(f for f in fields if f != "prize_preview")}
            elif not editable and "prize_distribution" in fields:
                options = {**options, "fields": tuple(f for f in fields if f != "prize_distribution")}
            fieldsets.append((name, options))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj and obj.status in (WagerRace.Status.COMPLETED, WagerRace.Status.CANCELLED):
            # A finished race is history: its terms can no longer change.
            fields += ["title", "type", "prize_pool", "start_date", "end_date", "min_wager"]
            fields += ["prize_distribution", "recurrence"]
        return fields

    @admin.action(description="Start selected upcoming races now")
    def start_now(self, request, queryset):
        _run_each(self, request, queryset, lifecycle.race_start, "Started")

    @admin.action(description="Finish and finalize selected live races now")
    def finalize_now(self, request, queryset):
        _run_each(
            self, request, queryset, lambda pk, **who: lifecycle.race_finalize(pk, force=True, **who), "Finalized"
        )

    @admin.action(description="Cancel selected races")
    def cancel(self, request, queryset):
        _run_each(self, request, queryset, lifecycle.race_cancel, "Cancelled")

    @admin.action(description="Export standings / results of selected races as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        audit_record(actor=request.user, action="race.export_csv", after={"races": ids}, source=AuditEntry.Source.ADMIN)
        rows = races_standings_csv_rows(ids)
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="race-standings-{stamp}.csv"'
        return response

    @admin.action(description="Recompute standings of selected live races")
    def recompute(self, request, queryset):
        _run_each(self, request, queryset, lambda pk, **who: lifecycle.race_recompute(pk, **who) >= 0, "Recomputed")


@admin.register(RaceParticipant)
class RaceParticipantAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Standings are computed by every sync; an operator changes one only by adding a wager adjustment (with a
    reason), which every later sync keeps applying."""

    list_display = ("race", "rank", "player", "wagered_text", "adjusted", "prize_eligible", "updated_at")
    wagered_text = money_column("wagered", "Wagered")
    list_filter = ("race__status", "prize_eligible")
    search_fields = ("player__name", "=player__uid", "race__title")
    list_select_related = ("race", "player")

    @admin.display(description="Adjusted", ordering="adjustment")
    def adjusted(self, obj):
        if not obj.adjustment:
            return ""
        return format_html('<span class="adjusted" title="measured {}">adjusted {}</span>',
                           money_text(obj.measured), f"{obj.adjustment:+,.2f}")  # fmt: skip


@admin.register(RaceResult)
class RaceResultAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("race", "rank", "name", "uid", "wagered_text", "prize_text", "prize_eligible", "notified_at")
    wagered_text = money_column("wagered", "Wagered")
    prize_text = money_column("prize", "Prize")
    list_filter = ("prize_eligible", "race__type")
    search_fields = ("name", "=uid", "race__title")
    list_select_related = ("race",)
    raw_id_fields = ("race", "player")
    readonly_fields = ("created_at", "notified_at")


@admin.register(HistoricalRace)
class HistoricalRaceAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """The archive is written by finalization only: read-only here."""

    list_display = ("title", "type", "year", "month", "pool", "participant_count", "total", "status")
    pool = money_column("prize_pool", "Prize pool")
    total = money_column("total_wagered", "Total wagered")
    list_filter = ("type", "year", "status")
    search_fields = ("title",)
    list_select_related = ("race",)


@admin.register(RaceProgressSample)
class RaceProgressSampleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("race", "taken_at")
    list_filter = ("race__status",)
    list_select_related = ("race",)
    readonly_fields = ("race", "taken_at", "standings")
    date_hierarchy = "taken_at"

    def has_add_permission(self, request):
        return False


class AdjustmentForm(forms.ModelForm):
    player_uid = forms.CharField(max_length=64, label="Player uid", help_text="The player's Goated uid.")

    class Meta:
        model = WagerAdjustment
        fields = ["race", "amount", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"amount": "Positive to credit, negative to debit (in wager, like the standings)."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "race" in self.fields:  # absent on the read-only page of a saved adjustment
            self.fields["race"].queryset = WagerRace.objects.filter(
                WagerRace.not_ended_q(timezone.now()), status=WagerRace.Status.LIVE
            )
            self.fields["race"].help_text = "Only live races that have not ended: after the end, results are frozen."
        if "amount" in self.fields:
            self.fields[
                "amount"
            ].help_text += (
                f" Above {settings.ADJUSTMENT_REVIEW_ABOVE:,} either way, it counts once a second operator approves it."
            )

    def clean_player_uid(self):
        player = Player.objects.filter(uid=self.cleaned_data["player_uid"].strip()).first()
        if player is None:
            raise forms.ValidationError("No player has this uid.")
        return player


@admin.register(WagerAdjustment)
class WagerAdjustmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Adjustments are added (through the service, which applies them at once) and never edited or deleted: a
    correction is another adjustment."""

    form = AdjustmentForm
    list_display = ("created_at", "race", "player", "amount", "reason", "created_by", "status", "reviewed_by")
    list_filter = ("status", "race")
    search_fields = ("=player__uid", "player__name", "reason")
    list_select_related = ("race", "player", "created_by", "reviewed_by")
    actions = ["approve", "reject"]

    # Reviewing is open to whoever may add adjustments (the change permission stays off: rows are never edited);
    # the service refuses the author and the player's own account.
    @admin.action(description="Approve selected adjustments (a second operator: they count from now)",
                  permissions=["add"])  # fmt: skip
    def approve(self, request, queryset):
        self._review(request, queryset, adjustment_approve, "Approved")

    @admin.action(description="Reject selected adjustments (they never count)", permissions=["add"])
    def reject(self, request, queryset):
        self._review(request, queryset, adjustment_reject, "Rejected")

    def _review(self, request, queryset, review, done: str) -> None:
        for adjustment in queryset.order_by("pk"):
            try:
                review(adjustment.pk, actor=request.user, source=AuditEntry.Source.ADMIN)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"{done}: adjustment #{adjustment.pk} ({adjustment}).", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            adjustment = race_adjust(
                data["race"].pk, player_id=data["player_uid"].pk, amount=data["amount"], reason=data["reason"],
                actor=request.user,
            )  # fmt: skip
            done = f"Adjustment applied: {adjustment.amount:+,} for {adjustment.player.name} in {adjustment.race}."
            if adjustment.status == WagerAdjustment.Status.PENDING_REVIEW:
                done = (f"Adjustment #{adjustment.pk} ({adjustment.amount:+,} for {adjustment.player.name}) is above "
                        "the review limit: it counts once another operator approves it.")  # fmt: skip
            self.message_user(request, done, messages.SUCCESS)

        return action_with_form(self, request, AdjustmentForm, run, title="Adjust a player's standing",
                                template="admin/service_form.html")  # fmt: skip


@admin.register(RaceEntry)
class RaceEntryAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("race", "player", "source", "joined_at")
    list_filter = ("source", "race")
    search_fields = ("=player__uid", "player__name", "race__title")
    list_select_related = ("race", "player")
