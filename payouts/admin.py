"""The payout queue in the back office: a work queue that opens on Pending, with the totals of what it shows and
the next step of each payout as a button (approve; mark paid or fail); bulk actions (approve, pay, send, fail,
retry, cancel); CSV out and in. Every change goes through payouts.services, which applies the separation of duties
and audits it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.admin import AuditedAdminMixin, DefaultListFilter, action_with_form, money_column, referer_or
from core.errors import ServiceError
from core.money import money_text
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


class PayoutStatusFilter(DefaultListFilter):
    """The queue opens on what waits for an approval; "All" and every other status are one click away."""

    title = "status"
    parameter_name = "status"
    default = Payout.Status.PENDING

    def lookups(self, request, model_admin):
        return Payout.Status.choices

    def filter(self, request, queryset, value):
        return queryset.filter(status=value)


# The next step of a payout in each status, as buttons: (step, label). Approve is one press; paying needs the
# payment's reference and failing a reason, so those open a short form.
NEXT_STEPS = {
    Payout.Status.PENDING: [("approve", "Approve")],
    Payout.Status.APPROVED: [("pay", "Mark paid"), ("fail", "Fail")],
    Payout.Status.SENDING: [("pay", "Mark paid"), ("fail", "Fail")],
}


@admin.register(Payout)
class PayoutAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # What an operator decides on, nothing more: the method is a filter, the approver is on the payout's page.
    list_display = ("pk", "won_in", "rank", "destination", "amount_text", "status_badge", "reference", "paid_at",
                    "next_step")  # fmt: skip
    list_display_links = ("pk", "destination")
    amount_text = money_column("amount", "Amount")
    list_filter = (PayoutStatusFilter, "method", ("race", RaceFilter))
    search_fields = ("destination", "=reference", "race__title", "raffle__title", "=player__uid")
    list_select_related = ("race", "result", "raffle", "raffle_winner", "approved_by")
    date_hierarchy = "created_at"
    actions = ["approve", "mark_paid", "send_to_provider", "fail", "retry", "cancel", "export_csv"]
    readonly_fields = ("source", "race", "result", "raffle", "raffle_winner", "player", "amount", "method",
                       "destination", "status", "reference", "note", "approved_by", "approved_at", "paid_by", "paid_at",
                       "send_key", "created_at", "updated_at")  # fmt: skip
    fields = readonly_fields
    change_list_template = "admin/payouts/payout/change_list.html"
    change_form_template = "admin/payouts/payout/change_form.html"

    class Media:
        css = {"all": ("css/admin-queues.css",)}

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
        return format_html('<span class="pill payout-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="Next step")
    def next_step(self, obj):
        """Buttons inside the changelist's form: Approve posts (the form carries the CSRF token) to its own URL;
        the others open their form."""
        return format_html_join(" ", "{}", ((self._step_button(obj, step, label),) for step, label in
                                            NEXT_STEPS.get(obj.status, ())))  # fmt: skip

    def _step_button(self, obj, step: str, label: str, *, form: str = ""):
        url = reverse(f"admin:payouts_payout_{step}", args=[obj.pk])
        name = f"{label} payout #{obj.pk}"
        if step == "approve":
            form_attr = format_html(' form="{}"', form) if form else ""
            return format_html('<button type="submit" class="button queue-step default" formaction="{}" '
                               'formmethod="post" formnovalidate aria-label="{}"{}>{}</button>',
                               url, name, form_attr, label)  # fmt: skip
        return format_html('<a class="button queue-step" href="{}" aria-label="{}">{}</a>', url, name, label)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if self.has_change_permission(request) else [c for c in shown if c != "next_step"]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context={"title": "Payouts", **(extra_context or {})})
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:  # a redirect or an action's page has no list
            response.context_data["status_totals"] = self._totals(cl)
        return response

    def _totals(self, cl) -> list[dict]:
        """Count and sum per status of what the current filter shows, each a link to that status (one query)."""
        rows = {
            r["status"]: r for r in cl.queryset.order_by().values("status").annotate(n=Count("pk"), total=Sum("amount"))
        }
        return [
            {"status": status, "label": label, "count": rows[status]["n"], "total": money_text(rows[status]["total"]),
             "url": cl.get_query_string({"status": status})}
            for status, label in Payout.Status.choices if status in rows
        ]  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payout = self.get_object(request, object_id)
        steps = []
        if payout is not None and self.has_change_permission(request, payout):
            steps = [self._step_button(payout, step, label, form="payout-step") for step, label in
                     NEXT_STEPS.get(payout.status, ())]  # fmt: skip
        context = {"next_steps": steps, "title": f"Payout #{object_id}", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

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
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="payouts_payout_import"),
            path("<int:pk>/approve/", view(require_POST(self.approve_view)), name="payouts_payout_approve"),
            path("<int:pk>/pay/", view(self.pay_view), name="payouts_payout_pay"),
            path("<int:pk>/fail/", view(self.fail_view), name="payouts_payout_fail"),
            *super().get_urls(),
        ]

    def _payout_for_step(self, request, pk: int) -> Payout:
        payout = get_object_or_404(Payout.objects.select_related("race", "raffle", "result", "raffle_winner"), pk=pk)
        if not self.has_change_permission(request, payout):
            raise PermissionDenied
        return payout

    def approve_view(self, request, pk: int):
        """The Approve button of a row or of the payout's page: payouts_approve for this one payout."""
        payout = self._payout_for_step(request, pk)
        self._run(request, lambda: payout_service.payouts_approve([payout.pk], actor=request.user), "approved")
        return redirect(referer_or(request, reverse("admin:payouts_payout_changelist")))

    def pay_view(self, request, pk: int):
        payout = self._payout_for_step(request, pk)
        return self._step_page(
            request, payout, ReferenceForm, "Mark paid", "The reference of the payment (the tip or transaction id); "
            "the player is told.", lambda data: payout_service.payouts_mark_paid(
                [payout.pk], actor=request.user, reference=data["reference"]), "paid",
        )  # fmt: skip

    def fail_view(self, request, pk: int):
        payout = self._payout_for_step(request, pk)
        return self._step_page(
            request, payout, NoteForm, "Fail", "Why did the payment fail? (A failed payout can be retried.)",
            lambda data: payout_service.payouts_fail([payout.pk], actor=request.user, note=data["note"]),
            "marked failed",
        )  # fmt: skip

    def _step_page(self, request, payout: Payout, form_class, label: str, intro: str, change, verb: str):
        """A one-payout step that needs a word first: the form, then the service; back where the button was."""
        back = request.POST.get("next") or referer_or(request, reverse("admin:payouts_payout_changelist"))
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:payouts_payout_changelist")

        def run(data):
            self._report(request, change(data), verb)  # a refusal (ServiceError) is shown on the form
            return redirect(back)

        summary = f"#{payout.pk}: {money_text(payout.amount)} to {payout.destination} for {payout.prize_of}, " \
                  f"{payout.get_status_display().lower()}."  # fmt: skip
        return action_with_form(
            self, request, form_class, run, title=f"{label}: payout #{payout.pk}",
            template="admin/payouts/payout/step.html",
            context={"intro": intro, "summary": summary, "submit_label": label, "next": back, "payout": payout},
        )  # fmt: skip

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
