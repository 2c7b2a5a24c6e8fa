"""The feed in the back office: players, the sync log (with "sync now" and the feed's health) and the affiliate
API token. Every change goes through its service, which audits it."""

from __future__ import annotations

from celery.result import EagerResult
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Subquery
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, action_with_form, money_column
from core.audit import audit_record
from core.charts import svg_chart
from core.models import AuditEntry
from races.feed.credentials import feed_token_store, token_warning_level
from races.feed.logs import transformation_logs_resolve
from races.feed.selectors import feed_status, sync_duration, sync_errors
from races.models import FeedCredential, Player, TransformationLog
from races.tasks import sync_wagers_task


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


class TokenForm(forms.ModelForm):
    token = forms.CharField(
        widget=forms.PasswordInput(render_value=False), strip=True, max_length=8192,
        help_text="Paste the affiliate API token (a JWT). It is stored encrypted; the next sync in every process "
                  "uses it, no restart needed.",
    )  # fmt: skip

    class Meta:
        model = FeedCredential
        fields: list[str] = []


@admin.register(FeedCredential)
class FeedCredentialAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = TokenForm
    list_display = ("fingerprint", "expiry", "in_use", "created_by", "created_at")
    list_select_related = ("created_by",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Expires (UTC)", ordering="expires_at")
    def expiry(self, obj):
        if obj.expires_at is None:
            return "unknown (not a JWT)"
        level = token_warning_level(obj.expires_at)
        return format_html('<span class="token-{}">{:%Y-%m-%d %H:%M}</span>', level or "ok", obj.expires_at)

    def get_queryset(self, request):
        newest = FeedCredential.objects.order_by("-created_at", "-pk").values("pk")[:1]
        return super().get_queryset(request).annotate(newest_pk=Subquery(newest))

    @admin.display(description="In use (the newest)", boolean=True)
    def in_use(self, obj):
        return obj.pk == obj.newest_pk

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            credential = feed_token_store(data["token"], actor=request.user, source=AuditEntry.Source.ADMIN)
            expiry = (
                f"expires {credential.expires_at:%Y-%m-%d %H:%M} UTC" if credential.expires_at else "expiry unknown"
            )
            done = f"Token {credential.fingerprint}… stored ({expiry}); the next sync uses it."
            self.message_user(request, done, messages.SUCCESS)

        return action_with_form(self, request, TokenForm, run, title="Paste a new affiliate API token",
                                template="admin/service_form.html")  # fmt: skip
