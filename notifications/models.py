"""What reaches a player and how: preferences, in-site notifications, and who can be reached on Telegram."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.links import validate_site_path


class NotificationPreferences(models.Model):
    """The seed's six toggles, now tied to their user (the seed forgot the link)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    wager_race_updates = models.BooleanField(default=True)
    vip_status_changes = models.BooleanField(default=True)
    # Marketing is opt-in: off until the player turns it on. Everything about their own races, tier and account
    # (race results, statements; ticket replies and verification have no switch at all) starts on.
    promotional_offers = models.BooleanField(
        default=False, help_text="New bonus codes and promotions (off unless you turn it on)."
    )
    monthly_statements = models.BooleanField(default=True)
    email_notifications = models.BooleanField(default=True)
    push_notifications = models.BooleanField(
        default=True, help_text="Send notifications to my Telegram (the site always lists them)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    TOGGLES = (
        "wager_race_updates",
        "vip_status_changes",
        "promotional_offers",
        "monthly_statements",
        "email_notifications",
        "push_notifications",
    )

    class Meta:
        verbose_name = "notification preferences"
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Notification(models.Model):
    """An in-site notification (race won, ticket reply, verification decided...)."""

    class Kind(models.TextChoices):
        RACE = "race", "Race"
        SUPPORT = "support", "Support"
        VERIFICATION = "verification", "Verification"
        REWARD = "reward", "Reward"
        VIP = "vip", "VIP"
        ANNOUNCEMENT = "announcement", "Announcement"
        SYSTEM = "system", "System"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SYSTEM)
    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    # Makes "notify once" idempotent: e.g. "race-won:42" for a given user.
    dedupe_key = models.CharField(max_length=100, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.user}"

    def clean(self) -> None:
        _link_clean("url", self.url)


class BotUser(models.Model):
    """Everyone who talked to the bot: where to reach them, and whether they blocked us."""

    telegram_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=64, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True, help_text="Set when Telegram says the user blocked us.")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)


class NewsletterSubscription(models.Model):
    """An address that asked for our race news, with or without an account (the footer form). Double opt-in
    (notifications.newsletter): it gets the newsletter only once its owner opened the emailed link and
    confirmed, and not after an unsubscribe until they confirm again."""

    email = models.EmailField(unique=True)
    is_subscribed = models.BooleanField(
        default=False, help_text="Confirmed by the address's owner and not unsubscribed since."
    )
    subscribed_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner last confirmed from the emailed link (double opt-in)."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-subscribed_at"]

    def __str__(self) -> str:
        return self.email


class Broadcast(models.Model):
    """A message to many people at once, on any of three channels (site, email, Telegram). Its recipients are
    listed up front as deliveries, one per channel and recipient, so a broadcast stopped halfway resumes where
    it stopped and never sends anything twice (docs/notifications.md)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone with an account"
        VERIFIED = "verified", "Verified players"
        TIER = "tier", "Players of a VIP tier and above"
        RACE = "race", "Participants of a race"
        NEWSLETTER = "newsletter", "Newsletter subscribers (with or without an account)"

    title = models.CharField(max_length=120, blank=True)
    text = models.TextField(max_length=4000)
    link = models.CharField(max_length=200, blank=True, help_text="A page of this site, e.g. /races/12/")
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.VERIFIED)
    # Which tier or race the audience means ({"tier_id": 3} / {"race_id": 12}); ids, not relations: the apps
    # that own tiers and races sit above this one.
    audience_params = models.JSONField(default=dict, blank=True)
    promotional = models.BooleanField(default=True, help_text="Marketing: only to players who allow promotions.")
    site = models.BooleanField("on the site", default=True)
    email = models.BooleanField("by email", default=False)
    telegram = models.BooleanField("on Telegram", default=True)
    # What started it (e.g. "tg:<chat>:<message id>"): the same command delivered twice is one broadcast.
    key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_chat = models.BigIntegerField(null=True, blank=True, help_text="Told the outcome when it is done.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Broadcast #{self.pk}: {(self.title or self.text)[:40]}"

    def clean(self) -> None:
        _link_clean("link", self.link)


class BroadcastDelivery(models.Model):
    """One recipient on one channel. Claimed (pending → sending) before the message leaves: at most one send.
    Uncertain: the message may have arrived (Telegram or the mail server took the request, then no answer came
    back): never sent again automatically; an operator decides (docs/notifications.md, "Delivery states")."""

    class Channel(models.TextChoices):
        SITE = "site", "Site"
        EMAIL = "email", "Email"
        TELEGRAM = "telegram", "Telegram"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        BLOCKED = "blocked", "Blocked the bot"
        FAILED = "failed", "Failed"
        UNCERTAIN = "uncertain", "Uncertain (may have arrived, not resent)"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.TELEGRAM)
    # A user id (site), an email address (email), a chat id (Telegram).
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "channel", "recipient"], name="broadcast_one_delivery_per_recipient"
            ),
        ]
        indexes = [models.Index(fields=["broadcast", "status"], name="broadcast_delivery_status")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.recipient} ({self.status})"


class EmailLog(models.Model):
    """Emails that must go once (a monthly statement): the key is taken before the message is sent. Kept with
    status "uncertain" when the server may have taken the message without our hearing its answer: never resent."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        UNCERTAIN = "uncertain", "Uncertain (may have arrived, not resent)"

    key = models.CharField(max_length=120, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    sent_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.key} → {self.to}"


def _link_clean(field: str, value: str) -> None:
    """A stored link leads to a page of this site only (core.links): checked by admin forms through `clean`."""
    try:
        validate_site_path(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
