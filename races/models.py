"""Wager races: the race, its live participants and progress samples, final results, archive, opt-in entries and
operators' adjustments. The feed's models (Player and its ranks, sync logs, the feed token, wager days) live in
races.feed.models and are re-exported here, where DESIGN §6 names them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from races.feed.models import (  # noqa: F401  (re-exported: races.models.Player is the public name)
    MONEY,
    NON_NEGATIVE,
    PERIOD_FIELD,
    RANK_FIELD,
    WAGER,
    FeedCredential,
    LeaderboardPeriod,
    Player,
    PlayerRank,
    TransformationLog,
    WagerDay,
)
from races.validators import validate_prize_distribution


def window_ended(end: datetime, at: datetime) -> bool:
    """The one end-of-window rule (races, raffles): a window that closes at `end` has ended at `at` once the
    clock is past it. Nothing that happens or arrives after `end` counts (joins, adjustments, data)."""
    return at > end


def window_open_q(field: str, at: datetime) -> Q:
    """window_ended's twin as a filter: the rows whose window (ending at `field`) is still open at `at`."""
    return Q(**{f"{field}__gte": at})


class WagerRace(models.Model):
    class Type(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        WEEKEND = "weekend", "Weekend"
        CUSTOM = "custom", "Custom"

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    # A race that has not ended (yet) or been cancelled: it can still be joined, adjusted, cancelled.
    OPEN_STATUSES = (Status.UPCOMING, Status.LIVE)

    class Recurrence(models.TextChoices):
        NONE = "none", "Does not repeat"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"

    class Entry(models.TextChoices):
        OPEN = "open", "Every player counts"
        OPT_IN = "opt_in", "Players join first (opt-in)"

    title = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.MONTHLY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPCOMING, db_index=True)
    prize_pool = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    min_wager = models.DecimalField(**MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    prize_distribution = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_prize_distribution],
        help_text='Percent of the pool per rank, e.g. {"1": 50, "2": 30, "3": 20}; the total is at most 100.',
    )
    rules = models.TextField(blank=True)
    description = models.TextField(blank=True)
    recurrence = models.CharField(max_length=16, choices=Recurrence.choices, default=Recurrence.NONE)
    # Entry rules (docs/races.md, "Entry"): by default every player of the feed counts.
    entry = models.CharField(max_length=16, choices=Entry.choices, default=Entry.OPEN)
    # Ranked players in the live standings, or results once completed: written by the services that write those
    # rows, so pages and "around" answers need not count 100,000 rows (bench/pages.py).
    standings_total = models.PositiveIntegerField(default=0, editable=False)
    max_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Opt-in races: at most this many players may join (empty: no cap)."
    )
    min_tier = models.ForeignKey(
        "vip.VipTier", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only players of this VIP tier and above (by all-time wager) count.",
    )  # fmt: skip
    # The race this one was created from by recurrence: unique, so a race repeats into exactly one next race.
    recurs_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_race", editable=False
    )
    went_live_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    finalized_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date"]
        indexes = [models.Index(fields=["status", "type", "-start_date"], name="race_status_type_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="race_ends_after_start"),
            models.CheckConstraint(condition=Q(prize_pool__gte=0), name="race_prize_pool_non_negative"),
            models.CheckConstraint(condition=Q(min_wager__gte=0), name="race_min_wager_non_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["upcoming", "live", "completed", "cancelled"]), name="race_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(type__in=["weekly", "monthly", "weekend", "custom"]), name="race_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(recurrence__in=["none", "weekly", "monthly"]), name="race_recurrence_valid"
            ),
            models.CheckConstraint(condition=Q(entry__in=["open", "opt_in"]), name="race_entry_valid"),
            models.CheckConstraint(
                condition=Q(max_participants__isnull=True) | (Q(max_participants__gte=1) & Q(entry="opt_in")),
                name="race_cap_needs_opt_in",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = "The race must end after it starts."
        try:
            validate_prize_distribution(self.prize_distribution)
        except ValidationError as exc:
            errors["prize_distribution"] = exc.messages
        if self.max_participants is not None and self.entry != self.Entry.OPT_IN:
            errors["max_participants"] = "A cap needs an opt-in race: in an open race every player counts."
        if errors:
            raise ValidationError(errors)

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

    def has_ended(self, at: datetime) -> bool:
        """Whether the race's window closed before `at`: nothing that happens or arrives after end_date counts
        (joins, adjustments, recomputes, data), whatever the status says until the tick finalizes it. The one
        race-end rule: the clock against end_date, never the status alone."""
        return window_ended(self.end_date, at)

    @staticmethod
    def not_ended_q(at: datetime) -> Q:
        """has_ended's twin as a filter: the races whose window is still open at `at`."""
        return window_open_q("end_date", at)

    @property
    def measure(self) -> str:
        """Which Player counter a race counts (docs/design.md §5).

        A window that is exactly one UTC calendar month counts ``wager_month``; exactly one ISO week (Monday
        00:00 UTC to the next Monday) counts ``wager_week``; any other window counts all-time growth since
        the race went live.
        """
        start, end = self.start_date, self.end_date
        at_midnight = start.time() == end.time() == time(0) and start.utcoffset() == end.utcoffset() == timedelta(0)
        if at_midnight and start.day == 1 and end == _add_months(start, 1):
            return RaceMeasure.MONTH
        if at_midnight and start.weekday() == 0 and end - start == timedelta(days=7):
            return RaceMeasure.WEEK
        return RaceMeasure.GROWTH


class RaceMeasure:
    MONTH = "wager_month"
    WEEK = "wager_week"
    GROWTH = "growth"


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month and time ``months`` later (callers pass the 1st, so every month has it)."""
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)


class RaceParticipant(models.Model):
    """A player's current standing in a race, kept up to date by each successful sync while the race is live."""

    race = models.ForeignKey(WagerRace, on_delete=models.CASCADE, related_name="participants")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="race_entries")
    # What counts: the measured figure plus the operators' adjustments (never below zero).
    wagered = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    # The figure measured from the feed (the race's counter, or growth since the baseline).
    measured = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    # The sum of this player's WagerAdjustments in the race (signed), applied by every recompute.
    adjustment = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal("0"))
    # All-time wager when the race went live: custom windows measure growth from here.
    baseline_all_time = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    rank = models.PositiveIntegerField(null=True, blank=True)
    prize_eligible = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["race", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["race", "player"], name="participant_race_player_unique"),
            models.CheckConstraint(condition=Q(wagered__gte=0), name="participant_wagered_non_negative"),
            models.CheckConstraint(condition=Q(measured__gte=0), name="participant_measured_non_negative"),
        ]
        indexes = [models.Index(fields=["race", "rank"], name="participant_race_rank")]

    def __str__(self) -> str:
        return f"{self.player} in {self.race}"


class RaceProgressSample(models.Model):
    """The top N of a live race at one sync: enough for a "rank over time" chart.

    Storage is bounded: samples are taken at most every (race duration / RACE_PROGRESS_MAX_SAMPLES), so a race
    keeps at most RACE_PROGRESS_MAX_SAMPLES + 1 rows of RACE_PROGRESS_TOP_N entries whatever the sync rate.
    On PostgreSQL the table is partitioned by month of taken_at (races.0013, core/partitions.py): the database's key
    is (id, taken_at), ids come from its sequence only (never set one), and a unique rule must include taken_at.
    """

    race = models.ForeignKey(WagerRace, on_delete=models.CASCADE, related_name="progress_samples")
    taken_at = models.DateTimeField()
    # [[uid, name, wagered (string), rank], ...] for the top N at taken_at.
    standings = models.JSONField(default=list)

    class Meta:
        ordering = ["race", "taken_at"]
        constraints = [models.UniqueConstraint(fields=["race", "taken_at"], name="progress_race_taken_at_unique")]

    def __str__(self) -> str:
        return f"{self.race} at {self.taken_at:%Y-%m-%d %H:%M}"


class RaceResult(models.Model):
    """Final standing of one player in a finalized race (frozen; never recomputed)."""

    race = models.ForeignKey(WagerRace, on_delete=models.CASCADE, related_name="results")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="race_results")
    rank = models.PositiveIntegerField()
    # Name and uid as they were at the end of the race.
    name = models.CharField(max_length=64)
    uid = models.CharField(max_length=64)
    wagered = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    prize = models.DecimalField(**MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    prize_eligible = models.BooleanField(default=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["race", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["race", "rank"], name="result_race_rank_unique"),
            models.UniqueConstraint(fields=["race", "player"], name="result_race_player_unique"),
            models.CheckConstraint(condition=Q(prize__gte=0), name="result_prize_non_negative"),
            models.CheckConstraint(condition=Q(wagered__gte=0), name="result_wagered_non_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.name} in {self.race}"


class HistoricalRace(models.Model):
    """Archive row written once when a race is finalized."""

    race = models.OneToOneField(WagerRace, null=True, blank=True, on_delete=models.SET_NULL, related_name="archive")
    title = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=WagerRace.Type.choices)
    month = models.PositiveSmallIntegerField()
    year = models.PositiveSmallIntegerField()
    prize_pool = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    start_date = models.DateTimeField()
    end_date = models.DateTimeField()
    participants = models.JSONField(default=list, help_text="Final standings: [{rank, uid, name, wagered, prize}].")
    total_wagered = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    participant_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=WagerRace.Status.choices, default=WagerRace.Status.COMPLETED)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-end_date"]
        verbose_name = "historical race"
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="historical_month_valid"),
            models.CheckConstraint(condition=Q(prize_pool__gte=0), name="historical_prize_pool_non_negative"),
            models.CheckConstraint(condition=Q(total_wagered__gte=0), name="historical_total_non_negative"),
        ]
        indexes = [models.Index(fields=["year", "month"], name="historical_year_month")]

    def __str__(self) -> str:
        return f"{self.title} ({self.year}-{self.month:02d})"


class WagerAdjustment(models.Model):
    """An operator's credit (+) or debit (-) to a player's standing in a live race, with the reason (a disputed
    bet, a fraud reversal). Applied at once and by every later recompute; never after finalization. One larger
    than ADJUSTMENT_REVIEW_ABOVE waits for a second operator (pending review) and counts only once approved."""

    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", "Waiting for a second operator"
        APPROVED = "approved", "Counted"
        REJECTED = "rejected", "Rejected"

    race = models.ForeignKey(WagerRace, on_delete=models.PROTECT, related_name="adjustments")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.DecimalField(max_digits=24, decimal_places=8)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPROVED, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_amount_not_zero"),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_reason_required"),
            models.CheckConstraint(
                condition=Q(status__in=["pending_review", "approved", "rejected"]), name="adjustment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} for {self.player} in {self.race}"


class RaceEntry(models.Model):
    """A player who joined an opt-in race (on the site, with /join in the bot, or by the API)."""

    class Source(models.TextChoices):
        SITE = "site", "Site"
        BOT = "bot", "Telegram bot"
        API = "api", "API"
        ADMIN = "admin", "Admin"

    race = models.ForeignKey(WagerRace, on_delete=models.CASCADE, related_name="entries")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="race_joins")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SITE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["race", "joined_at"]
        verbose_name_plural = "race entries"
        constraints = [models.UniqueConstraint(fields=["race", "player"], name="entry_race_player_unique")]

    def __str__(self) -> str:
        return f"{self.player} joined {self.race}"
