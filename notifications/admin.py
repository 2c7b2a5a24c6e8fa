import uuid

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import AuditedAdminMixin, action_with_form
from core.links import SITE_PATH_HELP, validate_site_path
from notifications.broadcasts import (
    broadcast_compose,
    broadcast_preview,
    broadcast_races,
    broadcast_report,
    broadcast_tiers,
)
from notifications.models import (
    BotUser,
    Broadcast,
    BroadcastDelivery,
    EmailLog,
    NewsletterSubscription,
    Notification,
    NotificationPreferences,
)
from notifications.newsletter import newsletter_subscribe


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", *NotificationPreferences.TOGGLES, "updated_at")
    list_filter = ("email_notifications", "push_notifications", "promotional_offers")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "body", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "read_at", "dedupe_key")
    date_hierarchy = "created_at"


@admin.register(BotUser)
class BotUserAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("telegram_id", "username", "first_name", "blocked_at", "last_seen")
    list_filter = (("blocked_at", admin.EmptyFieldListFilter),)
    search_fields = ("=telegram_id", "username", "first_name")
    readonly_fields = ("telegram_id", "first_seen", "last_seen")


@admin.register(EmailLog)
class EmailLogAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Emails sent once per key (monthly statements): "uncertain" ones may have arrived and are never resent."""

    list_display = ("key", "to", "subject", "status", "sent_at")
    list_filter = ("status",)
    search_fields = ("key", "to")
    readonly_fields = ("key", "to", "subject", "status", "sent_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NewsletterSubscription)
class NewsletterSubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Consent is the owner's (double opt-in): staff see it, and can only ask an address to confirm."""

    list_display = ("email", "is_subscribed", "confirmed_at", "source", "subscribed_at", "unsubscribed_at")
    list_filter = ("is_subscribed", ("confirmed_at", admin.EmptyFieldListFilter), "source")
    search_fields = ("email",)
    readonly_fields = ("is_subscribed", "confirmed_at", "confirmation_sent_at", "subscribed_at", "unsubscribed_at")
    actions = ["ask_to_confirm"]

    @admin.action(description="Email a confirmation link to the selected unconfirmed addresses", permissions=["change"])
    def ask_to_confirm(self, request, queryset):
        for sub in queryset.exclude(is_subscribed=True, confirmed_at__isnull=False).exclude(
            unsubscribed_at__isnull=False
        ):
            newsletter_subscribe(sub.email, source=sub.source)
        self.message_user(request, "Confirmation links sent (at most one per address every ten minutes).")


# --- broadcasts: operators write to players on the site, by email and on Telegram ------------------------------


class BroadcastForm(forms.Form):
    title = forms.CharField(max_length=120, required=False, help_text="Shown as the notification title and subject.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    link = forms.CharField(max_length=200, required=False, help_text=SITE_PATH_HELP, validators=[validate_site_path])
    audience = forms.ChoiceField(choices=Broadcast.Audience.choices, initial=Broadcast.Audience.VERIFIED)
    tier = forms.ModelChoiceField(queryset=None, required=False, help_text="For “a VIP tier”.")
    race = forms.ModelChoiceField(queryset=None, required=False, help_text="For “participants of a race”.")
    channels = forms.MultipleChoiceField(
        choices=[("site", "On the site"), ("email", "By email"), ("telegram", "On Telegram")],
        widget=forms.CheckboxSelectMultiple, initial=["site", "telegram"],
    )  # fmt: skip
    promotional = forms.BooleanField(
        required=False, initial=True,
        help_text="Marketing: skip players who switched off promotional offers. Untick for service announcements.",
    )  # fmt: skip
    # One per opened form: "Send" pressed twice (or a resubmitted page) starts one broadcast.
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=32, initial=lambda: uuid.uuid4().hex)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = broadcast_tiers()
        self.fields["race"].queryset = broadcast_races()


def _compose_kwargs(data: dict) -> dict:
    """The composer's cleaned data as `broadcast_compose` takes it."""
    params = {}
    if data.get("tier"):
        params["tier_id"] = data["tier"].pk
    if data.get("race"):
        params["race_id"] = data["race"].pk
    return {
        "title": data["title"], "text": data["text"], "link": data["link"], "audience": data["audience"],
        "params": params, "channels": data["channels"], "promotional": data["promotional"],
        "key": f"admin:{data['form_key']}",
    }  # fmt: skip


@admin.register(Broadcast)
class BroadcastAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Compose (audience, channels, a preview of the recipients per channel), send through a paced, resumable
    worker, and follow the progress per channel. A broadcast is a record: never edited or deleted."""

    list_display = ("created_at", "subject", "audience", "channels", "status", "created_by", "sent", "failed",
                    "uncertain", "left")  # fmt: skip
    list_filter = ("status", "audience", "promotional")
    search_fields = ("title", "text")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    readonly_fields = ("subject", "text", "link", "audience", "audience_params", "channels", "promotional",
                       "status", "created_by", "created_at", "finished_at", "progress")  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request):
        S = BroadcastDelivery.Status
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("deliveries", filter=Q(deliveries__status=S.SENT)),
                n_failed=Count("deliveries", filter=Q(deliveries__status__in=[S.FAILED, S.BLOCKED])),
                n_uncertain=Count("deliveries", filter=Q(deliveries__status=S.UNCERTAIN)),
                n_left=Count("deliveries", filter=Q(deliveries__status__in=[S.PENDING, S.SENDING])),
            )
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Subject")
    def subject(self, obj):
        return (obj.title or obj.text)[:80]

    @admin.display(description="Channels")
    def channels(self, obj):
        return ", ".join(name for name in ("site", "email", "telegram") if getattr(obj, name)) or "–"

    @admin.display(description="Sent", ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(description="Failed or blocked", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.display(description="Uncertain (may have arrived, not resent)", ordering="n_uncertain")
    def uncertain(self, obj):
        return obj.n_uncertain

    @admin.display(description="Still to send", ordering="n_left")
    def left(self, obj):
        return obj.n_left

    @admin.display(description="Progress per channel")
    def progress(self, obj):
        report = broadcast_report(obj)
        rows = (
            (channel, counts.get("sent", 0), counts.get("failed", 0) + counts.get("blocked", 0),
             counts.get("uncertain", 0), counts.get("pending", 0) + counts.get("sending", 0))
            for channel, counts in sorted(report.by_channel.items())
        )  # fmt: skip
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table id="broadcast-progress"><thead><tr><th>Channel</th><th>Sent</th><th>Failed / blocked</th>'
            '<th title="Telegram or the mail server took it and no answer came: it may have arrived, so it is not '
            'sent again">Uncertain</th><th>Still to send</th></tr></thead><tbody>{}</tbody></table>',
            body,
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            kwargs = _compose_kwargs(data)
            if "_preview" in request.POST:
                params = (kwargs["audience"], kwargs["params"], kwargs["channels"])
                return {"preview": broadcast_preview(*params, promotional=kwargs["promotional"])}
            broadcast, created = broadcast_compose(**kwargs, actor=request.user)
            self.message_user(
                request,
                f"Broadcast #{broadcast.pk} is sending; follow it here."
                if created else f"Broadcast #{broadcast.pk} was already sent from this form; here it is.",
            )  # fmt: skip
            return redirect(reverse("admin:notifications_broadcast_change", args=[broadcast.pk]))

        return action_with_form(
            self, request, BroadcastForm, run, title="New broadcast",
            template="admin/notifications/broadcast/compose.html",
        )  # fmt: skip
