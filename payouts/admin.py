"""The payout queue in the back office: approve, pay, fail, retry, cancel; CSV out and in. Every change goes
through payouts.services, which audits it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, action_with_form, money_column
from core.errors import ServiceError
from payouts import services as payout_service
from payouts.models import Payout


class ReferenceForm(forms.Form):
    reference = forms.CharField(max_length=128, help_text="The tip or transaction id of this payment batch.")


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why.")


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns payout_id and reference (an export, filled in, works).")


class RaceFilter(admin.RelatedFieldListFilter):
    """The races with payouts, without the empty "-" choice a nullable source field would add (a payout of
    another source is found by its own filter when there is one)."""

    @property
    def include_empty_choice(self) -> bool:
        return False


@admin.register(Payout)
class PayoutAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "won_in", "rank", "destination", "amount_text", "method", "status_badge", "reference",
                    "approved_by", "paid_at")  # fmt: skip
    list_display_links = ("pk", "destination")
    amount_text = money_column("amount", "Amount")
    list_filter = ("status", "method", ("race", RaceFilter))
    search_fields = ("destination", "=reference", "race__title", "raffle__title", "=player__uid")
    list_select_related = ("race", "result", "raffle", "raffle_winner", "approved_by")
    date_hierarchy = "created_at"
    actions = ["approve", "mark_paid", "send_to_provider", "fail", "retry", "cancel", "export_csv"]
    readonly_fields = ("source", "race", "result", "raffle", "raffle_winner", "player", "amount", "method",
                       "destination", "status", "reference", "note", "approved_by", "approved_at", "paid_by", "paid_at",
                       "send_key", "created_at", "updated_at")  # fmt: skip
    fields = readonly_fields
    change_list_template = "admin/payouts/payout/change_list.html"

    def has_add_permission(self, request):
        return False  # a payout comes from a finalized race or a drawn raffle, never by hand

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the record stays

    @admin.display(description="Won in", ordering="race__title")
    def won_in(self, obj):
        return f"{obj.prize_of} (raffle)" if obj.raffle_id else obj.prize_of

    @admin.display(description="Rank", ordering="result__rank")
    def rank(self, obj):
        return f"#{obj.place}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="payout-status payout-{}">{}</span>', obj.status, obj.get_status_display())

    def _report(self, request, report: payout_service.PayoutReport, verb: str) -> None:
        level = messages.SUCCESS if report.changed and not report.skipped else messages.WARNING
        self.message_user(request, report.summary(verb), messages.ERROR if report.refused else level)

    def _run(self, request, change, verb: str) -> None:
        """Call a queue service; a refusal (the separation of duties) is shown as an error."""
        try:
            report = change()
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self._report(request, report, verb)

    @admin.action(description="Approve selected payouts", permissions=["change"])
    def approve(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._run(request, lambda: payout_service.payouts_approve(ids, actor=request.user), "approved")

    @admin.action(description="Mark selected payouts paid (with a reference)…", permissions=["change"])
    def mark_paid(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return action_with_form(
            self, request, ReferenceForm, queryset=queryset, title="Mark payouts paid",
            intro="These approved payouts were paid together. Their players are told.", submit_label="Mark paid",
            run=lambda data: self._report(
                request, payout_service.payouts_mark_paid(ids, actor=request.user, reference=data["reference"]), "paid"
            ),
        )  # fmt: skip

    @admin.action(description="Send selected payouts through the payout provider", permissions=["change"])
    def send_to_provider(self, request, queryset):
        counts = payout_service.payouts_send(list(queryset.values_list("pk", flat=True)), actor=request.user)
        text = (
            f"Provider: {counts['paid']} paid, {counts['failed']} failed, {counts['pending']} sending (waiting for "
            f"the provider or a manual payment: mark them paid or failed), {counts['in_flight']} already sending "
            f"(not sent again), {counts['skipped']} skipped (not approved)."
        )
        if counts["refused"]:
            text += f" {counts['refused']} refused: another operator than the approver sends a payout (four eyes)."
        self.message_user(request, text, messages.ERROR if counts["refused"] else messages.INFO)

    @admin.action(description="Mark selected payouts failed…", permissions=["change"])
    def fail(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return action_with_form(
            self, request, NoteForm, queryset=queryset, title="Payouts failed", intro="Why did the payment fail?",
            submit_label="Mark failed", run=lambda data: self._report(
                request, payout_service.payouts_fail(ids, actor=request.user, note=data["note"]), "marked failed"
            ),
        )  # fmt: skip

    @admin.action(description="Retry selected failed payouts (back to pending)", permissions=["change"])
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._run(request, lambda: payout_service.payouts_retry(ids, actor=request.user), "back to pending")

    @admin.action(description="Cancel selected payouts…", permissions=["change"])
    def cancel(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return action_with_form(
            self, request, NoteForm, queryset=queryset, title="Cancel payouts", intro="Why is the prize not paid?",
            submit_label="Cancel payouts", run=lambda data: self._report(
                request, payout_service.payouts_cancel(ids, actor=request.user, note=data["note"]), "cancelled"
            ),
        )  # fmt: skip

    @admin.action(description="Export selected payouts as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("race", "result", "raffle", "raffle_winner", "player").order_by(
            "race_id", "raffle_id", "result__rank", "raffle_winner__position"
        )
        response = HttpResponse(payout_service.payouts_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payouts-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="payouts_payout_import"), *super().get_urls()]

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > payout_service.MAX_IMPORT_BYTES:  # before reading it into memory
                    raise payout_service.ImportRefused("The file is larger than 1 MB.", ["Too large."])
                report = payout_service.payouts_import_references(upload.read(), actor=request.user)
            except ServiceError as exc:
                errors = getattr(exc, "errors", [])
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self._report(request, report, "marked paid from the file")
                return redirect(reverse("admin:payouts_payout_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Import payment references", "form": form,
                   "errors": errors, "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/payouts/payout/import.html", context)
