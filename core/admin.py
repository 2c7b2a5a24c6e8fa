"""Admin building blocks every app uses (the audited mixin, read-only records, actions that call a service for
each selected row), and the audit log's own admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from waffle.models import Switch

from core.audit import audit_changes, audit_record, audit_snapshot
from core.errors import SeparationOfDuties, ServiceError
from core.features import FEATURES
from core.models import AuditEntry
from core.money import money_text


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

    def _audit_delete(self, request, obj) -> None:
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.delete",
            target=obj,
            before=audit_snapshot(obj),
            source=AuditEntry.Source.ADMIN,
        )

    def delete_model(self, request, obj):
        self._audit_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit_delete(request, obj)
        super().delete_queryset(request, queryset)


def money_column(field: str, description: str):
    """A changelist column showing a money field the one way money is shown: `$1,234.56`, cut to cents."""

    @admin.display(description=description, ordering=field)
    def column(modeladmin, obj) -> str:
        value = getattr(obj, field)
        return money_text(value) if value is not None else "–"

    return column


class DefaultListFilter(admin.SimpleListFilter):
    """A list filter that opens on a default choice (a work queue opens on what needs doing): a changelist loaded
    without this filter's parameter shows `default`; "All" (`?<parameter>=all`) is one click away.

    An action posted for rows ticked one by one acts on exactly those rows (the default hides none of them); "select
    all N" acts on the rows the page counted, the default included. Subclasses give `lookups` and `filter`."""

    default = ""
    ALL = "all"

    def value(self):
        value = super().value()
        if value is None and (self.request.method != "POST" or self.request.POST.get("select_across") == "1"):
            return self.default
        return value

    def choices(self, changelist):
        current = self.value()
        yield {
            "selected": current == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": "All",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, self.ALL) or value not in {str(k) for k, _ in self.lookup_choices}:
            return queryset
        return self.filter(request, queryset, value)

    def filter(self, request, queryset, value: str):
        raise NotImplementedError


def referer_or(request, fallback: str) -> str:
    """Back where a button was pressed (a filtered queue keeps its filter), or `fallback` for another site's page."""
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if referer and safe else fallback


class ReadOnlyAdminMixin:
    """Records written only by the system (logs, archives, threads): listed and shown, never added, edited or
    deleted from admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def action_each(
    modeladmin,
    request,
    objects: Iterable,
    change: Callable,
    done: str,
    noun: str,
    *,
    idle: Callable[[object], str] | None = None,
) -> int:
    """Run an admin action's service on each selected object: the service decides and audits; this reports how
    many it changed and, one by one, what it refused (its ServiceError message) or found nothing to do for (the
    service returned False; `idle` says why)."""
    count = 0
    for obj in objects:
        try:
            outcome = change(obj)
        except ServiceError as exc:
            # A separation-of-duties refusal is an error (the person may not); other refusals are warnings.
            level = messages.ERROR if isinstance(exc, SeparationOfDuties) else messages.WARNING
            modeladmin.message_user(request, exc.message, level)
            continue
        if outcome is False:
            if idle is not None:
                modeladmin.message_user(request, idle(obj), messages.WARNING)
            continue
        count += 1
    if count:
        modeladmin.message_user(request, f"{done}: {count} {noun}(s).", messages.SUCCESS)
    return count


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


def form_refusal(form, exc: ServiceError) -> None:
    """A service's refusal on the form that asked for it: under the fields it names, and its message at the top
    unless it only repeats them."""
    named = {name: problems for name, problems in exc.fields.items() if name in form.fields}
    for name, problems in named.items():
        form.add_error(name, problems)
    if exc.message != " ".join(str(p) for problems in named.values() for p in problems):
        form.add_error(None, exc.message)


def action_with_form(
    modeladmin,
    request,
    form_class,
    run: Callable[[dict], object],
    *,
    title: str,
    queryset=None,
    intro: str = "",
    submit_label: str = "Apply",
    template: str = "admin/action_form_page.html",
    context: dict | Callable[[object], dict] | None = None,
):
    """The one way admin asks for input before it calls a service: show a form, then `run(cleaned_data)`.

    - An action (`queryset` given: reject with a reason, assign to…) shows templates/admin/action_form_page.html,
      which lists the selection and posts back to the changelist with the same action and "apply".
    - A page of its own (an add view: compose a broadcast, generate codes) posts to itself; `template` and
      `context` (a dict, or a function of the form) shape it.

    `run` calls the service and says what happened (its messages are its own). It returns None when done (back
    to the changelist), a dict to show the page again with more in its context (a preview), or a response to
    give. A ServiceError it raises is shown on the form (`form_refusal`), which keeps what was typed."""
    is_action = queryset is not None
    bound = "apply" in request.POST if is_action else request.method == "POST"
    form = form_class(request.POST, request.FILES) if bound else form_class()
    shown: dict = {}
    if bound and form.is_valid():
        try:
            outcome = run(form.cleaned_data)
        except ServiceError as exc:
            form_refusal(form, exc)
        else:
            if isinstance(outcome, dict):
                shown = outcome
            elif outcome is not None or is_action:
                return outcome
            else:
                opts = modeladmin.model._meta
                return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    page = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "opts": modeladmin.model._meta,
        **(context(form) if callable(context) else context or {}),
        **shown,
    }
    if is_action:
        # The action chosen, read as the changelist reads it (one select at the top, maybe one at the bottom).
        chosen, index = request.POST.getlist("action"), request.POST.get("index", "0")
        action = chosen[int(index)] if index.isdigit() and int(index) < len(chosen) else ""
        page |= {"intro": intro, "queryset": queryset, "action": action, "submit_label": submit_label}
    return TemplateResponse(request, template, page)


@admin.register(Switch)
class FeatureSwitchAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Feature switches (core.features): on/off without a deploy; the set of features is fixed by the code."""

    list_display = ("name", "feature", "active", "note", "modified")
    list_editable = ("active",)
    fields = ("name", "feature", "active", "note")
    readonly_fields = ("name", "feature")
    actions = ["switch_on", "switch_off"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The page's title in operators' words, not waffle's "Select Switch to change".
        return super().changelist_view(request, {"title": "Feature switches", **(extra_context or {})})

    @admin.display(description="What it covers")
    def feature(self, obj):
        feature = FEATURES.get(obj.name)
        return feature.label if feature else "(not used by the site)"

    def _switch(self, request, queryset, active: bool) -> None:
        for switch in queryset:
            if switch.active != active:
                before = audit_snapshot(switch)
                switch.active = active
                switch.save()  # waffle clears its cache: every process sees it on its next request
                audit_record(actor=request.user, action="switch.change", target=switch, before=before,
                             after=audit_snapshot(switch), source=AuditEntry.Source.ADMIN)  # fmt: skip
        self.message_user(request, f"{'On' if active else 'Off'}: {', '.join(s.name for s in queryset)}.")

    @admin.action(description="Switch on", permissions=["change"])
    def switch_on(self, request, queryset):
        self._switch(request, queryset, True)

    @admin.action(description="Switch off", permissions=["change"])
    def switch_off(self, request, queryset):
        self._switch(request, queryset, False)
