"""Admin for the audit log, and the mixin that records every admin change in it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from goatedvips.audit import audit_changes, audit_record, audit_snapshot
from goatedvips.models import AuditEntry


class AuditedAdminMixin:
    """Records add/change/delete made through admin forms with before/after values."""

    def save_model(self, request, obj, form, change):
        before = audit_snapshot(type(obj).objects.filter(pk=obj.pk).first()) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'change' if change else 'add'}",
            target=obj,
            before=before,
            after=audit_snapshot(obj),
            source=AuditEntry.Source.ADMIN,
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            target=obj,
            before=audit_snapshot(obj),
            source=AuditEntry.Source.ADMIN,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.delete",
                target=obj,
                before=audit_snapshot(obj),
                source=AuditEntry.Source.ADMIN,
            )
        super().delete_queryset(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "source", "target_type", "target_repr")
    list_filter = ("source", "action", "target_type")
    search_fields = ("actor_label", "action", "target_repr", "target_id", "note")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    show_full_result_count = False
    readonly_fields = (
        "created_at",
        "actor",
        "actor_label",
        "action",
        "source",
        "target_type",
        "target_id",
        "target_repr",
        "changes",
        "before",
        "after",
        "note",
    )
    exclude = ()

    @admin.display(description="Changed fields")
    def changes(self, entry):
        rows = audit_changes(entry.before, entry.after)
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>Field</th><th>Before</th><th>After</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((k, b, a) for k, (b, a) in rows.items())
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
