"""Experiments in the back office: define the slot, goal, window and 2-4 variants (edited only while a draft),
start and stop with one click (services audit it), and read the report on the experiment's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from core.admin import AuditedAdminMixin, ReadOnlyAdminMixin, action_each
from core.errors import ServiceError
from core.models import AuditEntry
from experiments import services
from experiments.models import Conversion, Experiment, Exposure, Variant
from experiments.report import report_rows
from experiments.selectors import experiment_report

ADMIN = AuditEntry.Source.ADMIN


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 2
    max_num = services.MAX_VARIANTS
    fields = ("position", "key", "weight", "headline", "button_text")

    def _draft(self, obj) -> bool:
        return obj is None or obj.status == Experiment.Status.DRAFT

    def has_add_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(Experiment)
class ExperimentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("key", "name", "slot", "goal", "status", "starts_at", "ends_at", "winner")
    list_filter = ("status", "slot")
    search_fields = ("key", "name")
    list_select_related = ("winner__experiment",)
    inlines = [VariantInline]
    readonly_fields = ("status", "winner", "stopped_at", "created_at")
    fieldsets = (
        (None, {"fields": ("key", "name", "slot", "goal")}),
        ("Window", {"fields": ("starts_at", "ends_at")}),
        ("State", {"fields": ("status", "winner", "stopped_at", "created_at")}),
    )
    actions = ["start_experiments", "stop_experiments"]
    change_form_template = "admin/experiments/experiment/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Experiment.Status.DRAFT:
            return (*self.readonly_fields, "key", "slot", "goal", "starts_at")  # the split and the question are fixed
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return (obj is None or obj.status == Experiment.Status.DRAFT) and super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        experiment = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if experiment is not None:
            extra["report"] = report_rows(experiment_report(experiment))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    # --- start / stop: one click on the page, or bulk on the list --------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/start/", view(self.start_view), name="experiments_experiment_start"),
            path("<int:pk>/stop/", view(self.stop_view), name="experiments_experiment_stop"),
            *super().get_urls(),
        ]

    def _one_click(self, request, pk: int, change, done: str, idle: str) -> HttpResponseRedirect:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            changed = change(pk, actor=request.user, source=ADMIN)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.WARNING)
        else:
            self.message_user(request, done if changed else idle, messages.SUCCESS if changed else messages.WARNING)
        return HttpResponseRedirect(reverse("admin:experiments_experiment_change", args=[pk]))

    def start_view(self, request, pk: int):
        return self._one_click(request, pk, services.experiment_start, "Started: visitors who accepted analytics "
                               "are split from the start time.", "Only a draft can be started.")  # fmt: skip

    def stop_view(self, request, pk: int):
        return self._one_click(request, pk, services.experiment_stop, "Stopped: the pinned variant is now shown "
                               "to everyone.", "Only a running experiment can be stopped.")  # fmt: skip

    @admin.action(description="Start the selected experiments", permissions=["change"])
    def start_experiments(self, request, queryset) -> None:
        change = lambda e: services.experiment_start(e.pk, actor=request.user, source=ADMIN)  # noqa: E731
        action_each(self, request, queryset, change, "Started", "experiment", idle=lambda e: f"{e}: not a draft.")

    @admin.action(description="Stop the selected experiments (pin the winner, or the control)", permissions=["change"])
    def stop_experiments(self, request, queryset) -> None:
        change = lambda e: services.experiment_stop(e.pk, actor=request.user, source=ADMIN)  # noqa: E731
        action_each(self, request, queryset, change, "Stopped", "experiment", idle=lambda e: f"{e}: not running.")


class _RecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_filter = ("experiment",)
    search_fields = ("experiment__key", "variant__key")
    list_select_related = ("experiment", "variant__experiment")


@admin.register(Exposure)
class ExposureAdmin(_RecordAdmin):
    list_display = ("created_at", "experiment", "variant", "visitor")


@admin.register(Conversion)
class ConversionAdmin(_RecordAdmin):
    list_display = ("created_at", "experiment", "variant", "goal", "visitor")
    list_filter = ("experiment", "goal")
