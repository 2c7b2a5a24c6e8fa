import csv
from decimal import Decimal

from celery.result import EagerResult
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, action_each, money_column
from core.audit import audit_record
from core.charts import svg_chart
from core.models import AuditEntry
from core.money import money_text
from races import admin_money  # noqa: F401  (registers the payout, adjustment, entry and token admins)
from races.models import (
    HistoricalRace,
    Player,
    RaceParticipant,
    RaceProgressSample,
    RaceResult,
    TransformationLog,
    WagerRace,
)
from races.prizes import prize_for, prize_table
from races.selectors.races import races_standings_csv_rows
from races.selectors.sync_stats import sync_duration, sync_errors
from races.services import lifecycle
from races.services.sync import feed_status, transformation_logs_resolve
from races.tasks import sync_wagers_task
from races.widgets import PrizeTableWidget


@admin.register(Player)
class PlayerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "uid",
        "today",
        "week",
        "month",
        "all_time",
        "rank_monthly",
        "rank_all_time",
        "last_seen",
    )
    list_select_related = ("ranks",)  # the rank columns read PlayerRank: one join, not a query per row
    today = money_column("wager_today", "Today")
    week = money_column("wager_week", "This week")
    month = money_column("wager_month", "This month")
    all_time = money_column("wager_all_time", "All time")
    search_fields = ("name", "=uid")
    # The feed owns the figures: shown formatted ($1,234.56), never as editable raw decimals.
    fields = (
        "name",
        "uid",
        ("today", "week", "month", "all_time"),
        ("rank_today", "rank_weekly", "rank_monthly", "rank_all_time"),
        ("first_seen", "last_seen", "updated_at"),
    )
    readonly_fields = (
        "uid",
        "today",
        "week",
        "month",
        "all_time",
        "rank_today",
        "rank_weekly",
        "rank_monthly",
        "rank_all_time",
        "first_seen",
        "last_seen",
        "updated_at",
    )
    # The all-time leaderboard index's own order (same as rank_all_time for ranked players): a page of 100k+
    # players is an index scan, not a sort.
    ordering = ("-wager_all_time", "first_seen", "uid")
    # Counting 100k+ rows on every page is slow on PostgreSQL; the paginator shows "more" instead.
    show_full_result_count = False


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
            "", "<tr><td>#{}</td><td>{}</td></tr>", ((r, money_text(a)) for r, a in sorted(table.items()))
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
            data = ((r.rank, r.name, r.uid, money_text(r.wagered), money_text(r.prize)) for r in rows)
            link = reverse("admin:races_raceresult_changelist") + f"?race__id__exact={race.pk}"
        else:
            rows = RaceParticipant.objects.filter(race=race, rank__isnull=False).select_related("player")
            prizes = prize_table(race.prize_pool, race.prize_distribution)
            data = (
                (p.rank, p.player.name, p.player.uid, money_text(p.wagered),
                 money_text(prize_for(prizes, p.rank, p.prize_eligible)))
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
        class Echo:
            def write(self, value):
                return value

        ids = list(queryset.values_list("pk", flat=True))
        audit_record(actor=request.user, action="race.export_csv", after={"races": ids}, source=AuditEntry.Source.ADMIN)
        writer = csv.writer(Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in races_standings_csv_rows(ids)), content_type="text/csv; charset=utf-8"
        )
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


@admin.register(TransformationLog)
class TransformationLogAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "type", "message", "duration_ms", "resolved")
    list_filter = ("type", "resolved", ("created_at", admin.DateFieldListFilter))
    search_fields = ("message", "error_message")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "type", "message", "payload", "duration_ms", "error_message")
    show_full_result_count = False
    actions = ["mark_resolved"]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        sync = path("sync/", self.admin_site.admin_view(self.sync_now_view), name="races_transformationlog_sync")
        return [sync, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "feed_status": feed_status(),
            "can_sync": self.has_change_permission(request),
            "sync_charts": [svg_chart(chart(0, timezone.now())) for chart in (sync_duration, sync_errors)],
        }
        return super().changelist_view(request, extra_context)

    def sync_now_view(self, request):
        """POST: run (embedded mode) or queue (workers) one sync; the result shows on the changelist."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        outcome = sync_wagers_task.delay()
        back = HttpResponseRedirect(reverse("admin:races_transformationlog_changelist"))
        if not isinstance(outcome, EagerResult):
            audit_record(
                actor=request.user, action="sync.queued", after={"task_id": outcome.id}, source=AuditEntry.Source.ADMIN
            )
            messages.info(request, "Sync queued: a worker runs it now; reload this page in a few seconds.")
            return back
        result = outcome.get()
        audit_record(actor=request.user, action="sync.run", after=result, source=AuditEntry.Source.ADMIN)
        if result["skipped"]:
            messages.warning(request, "Another sync is already running; nothing was done.")
        elif result["ok"]:
            messages.success(
                request,
                f"Sync done: {result['created']:,} created, {result['updated']:,} updated, "
                f"{result['unchanged']:,} unchanged, {result['rejected']:,} rejected.",
            )
        else:
            messages.error(request, f"Sync failed: {result['error']}. The site keeps serving the last good data.")
        return back

    @admin.action(description="Mark selected entries as resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        count = transformation_logs_resolve(
            list(queryset.values_list("pk", flat=True)), actor=request.user, source=AuditEntry.Source.ADMIN
        )
        self.message_user(request, f"{count} entr{'y' if count == 1 else 'ies'} marked resolved.")
