"""Referral attribution: the campaigns operators name, and the clicks on `/go/` counted per day and campaign.

Nothing here stores an address or a user agent: a click is a counter, and a visitor is only ever seen as a hash
under a salt of the day that lives in the cache (docs/analytics.md, "Referral clicks")."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

SLUG_PATTERN = r"[a-z0-9-]{1,50}"
slug_validator = RegexValidator(
    rf"\A{SLUG_PATTERN}\Z", "Lowercase letters, digits and dashes only (at most 50 characters)."
)


class Campaign(models.Model):
    """A slug an operator named (a stream, a Telegram post, a page's button). Any slug counts under itself
    whether or not it is named here: naming it only gives it a label and a link to copy."""

    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator],
                            help_text="The link is /go/<slug>/: lowercase letters, digits and dashes.")  # fmt: skip
    name = models.CharField(max_length=120)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class ReferralClickDay(models.Model):
    """The clicks on `/go/<campaign>/` on one UTC day. `campaign` is the slug as clicked (not a key to Campaign:
    any slug counts), "" for plain `/go/`. `unique_visitors` is an estimate (first sightings of a visitor's
    daily-salted hash)."""

    day = models.DateField()
    campaign = models.CharField(max_length=50, blank=True)
    clicks = models.PositiveIntegerField(default=0)
    unique_visitors = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "campaign"]
        verbose_name = "referral clicks per day"
        verbose_name_plural = "referral clicks per day"
        constraints = [models.UniqueConstraint(fields=["day", "campaign"], name="growth_click_day_campaign")]

    def __str__(self) -> str:
        return f"{self.day} {self.campaign or '(no campaign)'}: {self.clicks}"


class VisitDay(models.Model):
    """Page views of the public site on one UTC day (full HTML pages answered 200 to a person's GET, counted in
    the cache and flushed here every minute), and unique visitors estimated like the clicks' (first sightings of
    a daily-salted hash that lives only in the cache)."""

    day = models.DateField(unique=True)
    page_views = models.PositiveIntegerField(default=0)
    unique_visitors = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = "site visits per day"
        verbose_name_plural = "site visits per day"

    def __str__(self) -> str:
        return f"{self.day}: {self.page_views} views"


class CampaignTouch(models.Model):
    """The last `/go/<campaign>/` an account clicked (signed in, or remembered by the signed cookie `/go/` sets
    and read at the next sign-in). Only the slug and the time: no address, no user agent."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaign_touch")
    campaign = models.CharField(max_length=50, blank=True)
    clicked_at = models.DateTimeField()

    class Meta:
        ordering = ["-clicked_at"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.campaign or '(plain /go/)'} at {self.clicked_at:%Y-%m-%d %H:%M}"


class PlayerAttribution(models.Model):
    """A feed player credited to the campaign its account clicked before the player first appeared in the feed
    (an estimate: docs/analytics.md, "Attribution"). Written once, when both facts are known."""

    player = models.OneToOneField("races.Player", on_delete=models.CASCADE, related_name="attribution")
    campaign = models.CharField(max_length=50, blank=True)
    clicked_at = models.DateTimeField()
    attributed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-attributed_at"]
        indexes = [models.Index(fields=["campaign"], name="growth_attribution_campaign")]

    def __str__(self) -> str:
        return f"{self.player_id} ← {self.campaign or '(plain /go/)'}"


class PlayerWagerSnapshot(models.Model):
    """A player's all-time wager at the start of a UTC day (the day's first snapshot run), written only on days
    it changed: the history behind cohorts and prize ROI (the feed knows only the current counters)."""

    player = models.ForeignKey("races.Player", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    all_time = models.DecimalField(max_digits=24, decimal_places=8)

    class Meta:
        ordering = ["player", "-day"]
        constraints = [models.UniqueConstraint(fields=["player", "day"], name="growth_snapshot_player_day")]

    def __str__(self) -> str:
        return f"{self.player_id} {self.day}: {self.all_time}"
