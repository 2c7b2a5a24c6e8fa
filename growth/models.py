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
