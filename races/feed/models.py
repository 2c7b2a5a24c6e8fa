"""The feed and its leaderboards: one Player per feed uid, their global ranks, the sync log, the affiliate API
token and the daily wager history. Models of the `races` app (re-exported by races.models, where DESIGN §6 names
Player); nothing here knows about races."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

WAGER = {"max_digits": 24, "decimal_places": 8, "default": Decimal("0")}
MONEY = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class LeaderboardPeriod(models.TextChoices):
    TODAY = "today", "Today"
    WEEKLY = "weekly", "This week"
    MONTHLY = "monthly", "This month"
    ALL_TIME = "all_time", "All time"


# Player column holding each period's counter.
PERIOD_FIELD = {
    LeaderboardPeriod.TODAY: "wager_today",
    LeaderboardPeriod.WEEKLY: "wager_week",
    LeaderboardPeriod.MONTHLY: "wager_month",
    LeaderboardPeriod.ALL_TIME: "wager_all_time",
}
# PlayerRank column holding each period's global rank (stored by every successful sync).
RANK_FIELD = {
    LeaderboardPeriod.TODAY: "rank_today",
    LeaderboardPeriod.WEEKLY: "rank_weekly",
    LeaderboardPeriod.MONTHLY: "rank_monthly",
    LeaderboardPeriod.ALL_TIME: "rank_all_time",
}


NAME_CHOICES = [("full", "Full name"), ("masked", "Masked (Lu****88)"), ("hidden", "Hidden (Anonymous)")]


class Player(models.Model):
    """One row per uid of the affiliate's referral feed."""

    uid = models.CharField(max_length=64, unique=True)
    # No plain index: every name lookup is case-blind (iexact, icontains) and uses the trigram index on
    # UPPER(name) (races.0007); two unused btrees only slowed every sync down.
    name = models.CharField(max_length=64)
    # How the name appears to others (races.feed.names): the linked player's choice, "" for the site's default;
    # db_default so the sync's own INSERTs, which never name these columns, leave them as they are.
    name_display = models.CharField(max_length=8, blank=True, default="", db_default="", choices=NAME_CHOICES)
    hidden_until = models.DateTimeField(null=True, blank=True, help_text="Self-excluded until then: name hidden.")
    wager_today = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    wager_week = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    wager_month = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    wager_all_time = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    # Global ranks live in PlayerRank (`self.ranks`): a sync moves thousands of ranks and must not rewrite
    # thousands of whole player rows to do it.
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-wager_all_time", "first_seen", "uid"]  # the all-time leaderboard (its index's order)
        constraints = [
            models.CheckConstraint(
                condition=Q(wager_today__gte=0)
                & Q(wager_week__gte=0)
                & Q(wager_month__gte=0)
                & Q(wager_all_time__gte=0),
                name="player_wagers_non_negative",
            ),
        ]
        # Leaderboard order: wager desc, then first seen, then uid (docs/design.md §5).
        indexes = [
            models.Index(F("wager_today").desc(), "first_seen", "uid", name="player_lb_today"),
            models.Index(F("wager_week").desc(), "first_seen", "uid", name="player_lb_week"),
            models.Index(F("wager_month").desc(), "first_seen", "uid", name="player_lb_month"),
            models.Index(F("wager_all_time").desc(), "first_seen", "uid", name="player_lb_all_time"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uid})"

    def wager_for(self, period: str) -> Decimal:
        return getattr(self, PERIOD_FIELD[LeaderboardPeriod(period)])

    def rank_for(self, period: str) -> int | None:
        """The global rank of the last sync (None: nothing wagered in the period, or no sync yet). Read through
        `ranks`: select_related("ranks") where many players are shown."""
        try:
            ranks = self.ranks
        except PlayerRank.DoesNotExist:
            return None
        return getattr(ranks, RANK_FIELD[LeaderboardPeriod(period)])

    @property
    def rank_today(self) -> int | None:
        return self.rank_for(LeaderboardPeriod.TODAY)

    @property
    def rank_weekly(self) -> int | None:
        return self.rank_for(LeaderboardPeriod.WEEKLY)

    @property
    def rank_monthly(self) -> int | None:
        return self.rank_for(LeaderboardPeriod.MONTHLY)

    @property
    def rank_all_time(self) -> int | None:
        return self.rank_for(LeaderboardPeriod.ALL_TIME)


class PlayerRank(models.Model):
    """A player's global rank per period, written by each successful sync (races.services.sync) and nothing else.
    Narrow on purpose: when 10 % of players wager more, most ranks move, and rewriting these small rows costs a
    fraction of rewriting the player rows (docs/performance.md)."""

    player = models.OneToOneField(Player, primary_key=True, on_delete=models.CASCADE, related_name="ranks")
    rank_today = models.PositiveIntegerField(null=True, blank=True)
    rank_weekly = models.PositiveIntegerField(null=True, blank=True)
    rank_monthly = models.PositiveIntegerField(null=True, blank=True)
    rank_all_time = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Ranks of player {self.player_id}"


class TransformationLog(models.Model):
    """What each feed sync (or other data transformation) did: counts, timing, and why it failed.

    On PostgreSQL the table is partitioned by month of created_at (races.0013, core/partitions.py): the database's
    key is (id, created_at) and ids come from its sequence only, so never create a row with an explicit id."""

    class Type(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    type = models.CharField(max_length=16, choices=Type.choices, default=Type.INFO, db_index=True)
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    resolved = models.BooleanField(default=False)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["info", "warning", "error"]), name="transformation_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.type}] {self.message[:60]}"


class FeedCredential(models.Model):
    """The affiliate API token pasted by an operator, encrypted at rest (races.feed.credentials). The newest one is
    used by every process's next sync; AFFILIATE_API_TOKEN is the fallback when there is none."""

    token_encrypted = models.TextField(editable=False)
    fingerprint = models.CharField(max_length=16, editable=False, help_text="The first characters of its SHA-256.")
    expires_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="From the JWT's exp claim.")
    warned_24h_at = models.DateTimeField(null=True, blank=True, editable=False)
    warned_2h_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "affiliate API token"

    def __str__(self) -> str:
        return f"token {self.fingerprint}… added {self.created_at:%Y-%m-%d %H:%M}"


class WagerDay(models.Model):
    """One UTC day of wagering, kept by each successful sync (the day's total and how many players wagered):
    the history behind the dashboard's volume and activity charts. The feed only knows today."""

    date = models.DateField(unique=True)
    wagered = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    active_players = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        constraints = [models.CheckConstraint(condition=Q(wagered__gte=0), name="wagerday_wagered_non_negative")]

    def __str__(self) -> str:
        return f"{self.date}: {self.wagered}"
