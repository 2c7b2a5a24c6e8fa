"""Overlay links in the back office: create and edit (audited), copy the full URL, revoke or rotate in one click
(buttons on the link's page; bulk actions on the list). Revoking or rotating closes the old token's sockets."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import AuditedAdminMixin, action_each
from core.models import AuditEntry
from overlays import services
from overlays.models import OverlayLink

ADMIN = AuditEntry.Source.ADMIN


@admin.register(OverlayLink)
class OverlayLinkAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "kind", "settings", "status", "copyable_url", "created_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("label",)
    list_select_related = ("raffle",)
    readonly_fields = ("copyable_url", "status", "created_by", "created_at", "revoked_at")
    fieldsets = (
        (None, {"fields": ("label", "kind", "copyable_url", "status")}),
        ("What it shows", {"fields": ("n", "period", "race_type", "raffle")}),
        ("How it looks", {"fields": ("theme", "accent", "font_size")}),
        ("Record", {"fields": ("created_by", "created_at", "revoked_at")}),
    )
    actions = ["revoke_links", "rotate_links"]
    change_form_template = "admin/overlays/overlaylink/change_form.html"

    class Media:
        js = ("js/admin-copy.js",)

    @admin.display(description="options")
    def settings(self, link: OverlayLink) -> str:
        shown = {"race": "current race", "leaderboard": link.get_period_display(), "ticker": "race + leaderboard",
                 "raffle": str(link.raffle) if link.raffle_id else "open raffle ending soonest"}  # fmt: skip
        return f"top {link.n} · {shown[link.kind]} · {link.theme} · {link.accent} · {link.font_size}px"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, link: OverlayLink) -> str:
        return "active" if link.is_active else f"revoked {link.revoked_at:%d %b %Y, %H:%M}"

    @admin.display(description="URL for OBS")
    def copyable_url(self, link: OverlayLink) -> str:
        if link.pk is None:
            return "Save to get the URL."
        if not link.is_active:
            return "Revoked: rotate the token for a new URL."
        return format_html(
            '<input type="text" readonly value="{}" size="60" class="overlay-url" aria-label="Overlay URL"> '
            '<button type="button" class="button" data-copy-previous>Copy</button>',
            link.url,
        )

    def save_model(self, request, obj: OverlayLink, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)  # audited (AuditedAdminMixin); the token is not a field
        if change:
            services.overlay_link_changed(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the audit trail keeps the link

    # --- one click: revoke, rotate ----------------------------------------------------------------------

    def get_urls(self):
        return [
            path("<int:pk>/revoke/", self.admin_site.admin_view(self.revoke_view), name="overlays_overlaylink_revoke"),
            path("<int:pk>/rotate/", self.admin_site.admin_view(self.rotate_view), name="overlays_overlaylink_rotate"),
            *super().get_urls(),
        ]

    def _one_click(self, request, pk: int, change) -> HttpResponseRedirect:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        message = change(pk)
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:overlays_overlaylink_change", args=[pk]))

    def revoke_view(self, request, pk: int):
        def revoke(link_id: int) -> str:
            done = services.overlay_link_revoke(link_id, actor=request.user, source=ADMIN)
            return "Revoked: the URL answers 404 and open overlays went blank." if done else "Already revoked."

        return self._one_click(request, pk, revoke)

    def rotate_view(self, request, pk: int):
        def rotate(link_id: int) -> str:
            services.overlay_link_rotate(link_id, actor=request.user, source=ADMIN)
            return "New token: paste the new URL into OBS; the old one answers 404 and its overlays went blank."

        return self._one_click(request, pk, rotate)

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke_links(self, request, queryset) -> None:
        change = lambda link: services.overlay_link_revoke(link.pk, actor=request.user, source=ADMIN)  # noqa: E731
        action_each(self, request, queryset, change, "Revoked", "link", idle=lambda link: f"{link}: already revoked.")

    @admin.action(description="Rotate the tokens of the selected links", permissions=["change"])
    def rotate_links(self, request, queryset) -> None:
        change = lambda link: services.overlay_link_rotate(link.pk, actor=request.user, source=ADMIN)  # noqa: E731
        action_each(self, request, queryset, change, "New tokens", "link")
