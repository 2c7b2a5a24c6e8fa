"""The money side of the back office: the payout queue (approve, pay, fail, retry, cancel; CSV out and in),
wager adjustments, race entries and the affiliate token. Every change goes through its service, which audits it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Subquery
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, action_form_page, money_column
from core.errors import ServiceError
from core.models import AuditEntry
from races.credentials import feed_token_store, token_warning_level
from races.models import FeedCredential, Payout, Player, RaceEntry, WagerAdjustment, WagerRace
from races.services import payouts as payout_service
from races.services.adjustments import race_adjust


class ReferenceForm(forms.Form):
    reference = forms.CharField(max_length=128, help_text="The tip or transaction id of this payment batch.")


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why.")


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns payout_id and reference (an export, filled in, works).")


@admin.register(Payout)
class PayoutAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "race", "rank", "destination", "amount_text", "method", "status_badge", "reference",
                    "approved_by", "paid_at")  # fmt: skip
    list_display_links = ("pk", "destination")
    amount_text = money_column("amount", "Amount")
    list_filter = ("status", "method", "race")
    search_fields = ("destination", "=reference", "race__title", "=player__uid")
    list_select_related = ("race", "result", "approved_by")
    date_hierarchy = "created_at"
    actions = ["approve", "mark_paid", "send_to_provider", "fail", "retry", "cancel", "export_csv"]
    readonly_fields = ("race", "result", "player", "amount", "method", "destination", "status", "reference", "note",
                       "approved_by", "approved_at", "paid_by", "paid_at", "created_at", "updated_at")  # fmt: skip
    fields = readonly_fields
    change_list_template = "admin/races/payout/change_list.html"

    def has_add_permission(self, request):
        return False  # a payout comes from a finalized race, never by hand

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the record stays

    @admin.display(description="Rank", ordering="result__rank")
    def rank(self, obj):
        return f"#{obj.result.rank}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="payout-status payout-{}">{}</span>', obj.status, obj.get_status_display())

    def _report(self, request, report: payout_service.PayoutReport, verb: str) -> None:
        level = messages.SUCCESS if report.changed and not report.skipped else messages.WARNING
        self.message_user(request, report.summary(verb), level)

    def _with_form(self, request, queryset, form_class, action, title, intro, submit, run):
        form = form_class(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return action_form_page(self, request, queryset, form=form, action=action, title=title, intro=intro,
                                    submit_label=submit)  # fmt: skip
        try:
            run(form.cleaned_data)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return None

    @admin.action(description="Approve selected payouts", permissions=["change"])
    def approve(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._report(request, payout_service.payouts_approve(ids, actor=request.user), "approved")

    @admin.action(description="Mark selected payouts paid (with a reference)…", permissions=["change"])
    def mark_paid(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return self._with_form(
            request, queryset, ReferenceForm, "mark_paid", "Mark payouts paid",
            "These approved payouts were paid together. Their players are told.", "Mark paid",
            lambda data: self._report(
                request, payout_service.payouts_mark_paid(ids, actor=request.user, reference=data["reference"]), "paid"
            ),
        )  # fmt: skip

    @admin.action(description="Send selected payouts through the payout provider", permissions=["change"])
    def send_to_provider(self, request, queryset):
        counts = payout_service.payouts_send(list(queryset.values_list("pk", flat=True)), actor=request.user)
        self.message_user(
            request,
            f"Provider: {counts['paid']} paid, {counts['failed']} failed, {counts['pending']} waiting for a manual "
            f"payment, {counts['skipped']} skipped (not approved).",
        )

    @admin.action(description="Mark selected payouts failed…", permissions=["change"])
    def fail(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return self._with_form(
            request, queryset, NoteForm, "fail", "Payouts failed", "Why did the payment fail?", "Mark failed",
            lambda data: self._report(request, payout_service.payouts_fail(ids, actor=request.user, note=data["note"]),
                                      "marked failed"),
        )  # fmt: skip

    @admin.action(description="Retry selected failed payouts (back to pending)", permissions=["change"])
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._report(request, payout_service.payouts_retry(ids, actor=request.user), "back to pending")

    @admin.action(description="Cancel selected payouts…", permissions=["change"])
    def cancel(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return self._with_form(
            request, queryset, NoteForm, "cancel", "Cancel payouts", "Why is the prize not paid?", "Cancel payouts",
            lambda data: self._report(
                request, payout_service.payouts_cancel(ids, actor=request.user, note=data["note"]), "cancelled"
            ),
        )  # fmt: skip

    @admin.action(description="Export selected payouts as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("race", "result", "player").order_by("race_id", "result__rank")
        response = HttpResponse(payout_service.payouts_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payouts-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="races_payout_import"), *super().get_urls()]

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            try:
                report = payout_service.payouts_import_references(form.cleaned_data["file"].read(), actor=request.user)
            except payout_service.ImportRefused as exc:
                errors = exc.errors
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self._report(request, report, "marked paid from the file")
                return redirect(reverse("admin:races_payout_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Import payment references", "form": form,
                   "errors": errors, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/races/payout/import.html", context)


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
            self.fields["race"].queryset = WagerRace.objects.filter(status=WagerRace.Status.LIVE)
            self.fields["race"].help_text = "Only live races: finalized results are frozen."

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
    list_display = ("created_at", "race", "player", "amount", "reason", "created_by")
    list_filter = ("race",)
    search_fields = ("=player__uid", "player__name", "reason")
    list_select_related = ("race", "player", "created_by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        def run(data):
            adjustment = race_adjust(
                data["race"].pk, player_id=data["player_uid"].pk, amount=data["amount"], reason=data["reason"],
                actor=request.user,
            )  # fmt: skip
            return f"Adjustment applied: {adjustment.amount:+,} for {adjustment.player.name} in {adjustment.race}."

        return service_add_view(self, request, AdjustmentForm, run, "Adjust a player's standing")


@admin.register(RaceEntry)
class RaceEntryAdmin(ReadOnlyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("race", "player", "source", "joined_at")
    list_filter = ("source", "race")
    search_fields = ("=player__uid", "player__name", "race__title")
    list_select_related = ("race", "player")


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
        def run(data):
            credential = feed_token_store(data["token"], actor=request.user, source=AuditEntry.Source.ADMIN)
            expiry = (
                f"expires {credential.expires_at:%Y-%m-%d %H:%M} UTC" if credential.expires_at else "expiry unknown"
            )
            return f"Token {credential.fingerprint}… stored ({expiry}); the next sync uses it."

        return service_add_view(self, request, TokenForm, run, "Paste a new affiliate API token")


def service_add_view(modeladmin, request, form_class, run, title: str):
    """An admin "add" page whose saving is a service call: its refusal is shown on the form, which keeps what
    was typed (a secret field is emptied by its widget)."""
    if not modeladmin.has_add_permission(request):
        raise PermissionDenied
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = run(form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
            for name, problems in exc.fields.items():
                if name in form.fields and name not in form.errors:
                    form.add_error(name, problems)
        else:
            modeladmin.message_user(request, done, messages.SUCCESS)
            opts = modeladmin.model._meta
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    context = {**modeladmin.admin_site.each_context(request), "title": title, "form": form,
               "opts": modeladmin.model._meta}  # fmt: skip
    return TemplateResponse(request, "admin/service_form.html", context)
