"""Overlay links: an unguessable URL an OBS browser source shows (a race, a leaderboard, a raffle, a ticker)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from giveaways.models import Raffle
from races.feed.models import LeaderboardPeriod
from races.models import WagerRace

N_MAX = 25
FONT_MIN, FONT_MAX = 12, 72


def token_new() -> str:
    """32 URL-safe characters from 24 random bytes: the link's only secret (192 bits)."""
    return secrets.token_urlsafe(24)


class OverlayLink(models.Model):
    class Kind(models.TextChoices):
        RACE = "race", "Race: the current race's top N and countdown"
        LEADERBOARD = "leaderboard", "Leaderboard: a period's top N"
        RAFFLE = "raffle", "Raffle: ticket leaders, then the winners"
        TICKER = "ticker", "Ticker: one scrolling line of leaders and prizes"

    class Theme(models.TextChoices):
        DARK = "dark", "Dark"
        LIGHT = "light", "Light"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=80, blank=True, default="", help_text="For you: which scene or streamer.")
    token = models.CharField(max_length=64, unique=True, default=token_new, editable=False)
    n = models.PositiveSmallIntegerField(
        "rows (N)", default=10, validators=[MinValueValidator(1), MaxValueValidator(N_MAX)]
    )
    period = models.CharField(
        max_length=16, choices=LeaderboardPeriod.choices, default=LeaderboardPeriod.MONTHLY,
        help_text="Leaderboard and ticker: which period's leaders.",
    )  # fmt: skip
    race_type = models.CharField(
        max_length=16, choices=WagerRace.Type.choices, blank=True, default="",
        help_text="Race and ticker: the live race of this type (blank: the live race of any type that ends first).",
    )  # fmt: skip
    raffle = models.ForeignKey(
        Raffle, null=True, blank=True, on_delete=models.SET_NULL, related_name="overlay_links",
        help_text="Raffle: blank shows the open raffle ending soonest (and a draw's winners for 30 minutes).",
    )  # fmt: skip
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.DARK)
    accent = models.CharField(
        "accent colour", max_length=7, default="#d7ff00",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #rrggbb.")],
    )  # fmt: skip
    font_size = models.PositiveSmallIntegerField(
        "font size (px at 1080p)", default=28, validators=[MinValueValidator(FONT_MIN), MaxValueValidator(FONT_MAX)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["race", "leaderboard", "raffle", "ticker"]), name="overlay_kind_known"
            ),
            models.CheckConstraint(condition=Q(n__gte=1, n__lte=N_MAX), name="overlay_n_range"),
            models.CheckConstraint(condition=Q(font_size__gte=FONT_MIN, font_size__lte=FONT_MAX), name="overlay_font"),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.get_kind_display().split(':')[0]} overlay #{self.pk}"

    @property
    def path(self) -> str:
        """The page an OBS browser source opens (DESIGN §7): /overlay/<token>/<kind>/."""
        return f"/overlay/{self.token}/{self.kind}/"

    @property
    def url(self) -> str:
        return settings.SITE_URL.rstrip("/") + self.path

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def options(self) -> dict:
        """What the page reads from its data island: how it looks, how many rows."""
        return {"n": self.n, "theme": self.theme, "accent": self.accent, "font_size": self.font_size}
