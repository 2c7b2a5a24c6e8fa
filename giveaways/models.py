"""Raffles and giveaways (DESIGN §7): a raffle, its entries (tickets per player) and its winners."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from giveaways.draw import seed_hash, seed_new
from races.models import MONEY, NON_NEGATIVE, WAGER, window_ended, window_open_q
from races.validators import validate_prize_distribution


def _one_winner() -> dict:
    return {"1": 100}


class Raffle(models.Model):
    """A raffle: wager raffles (`ticket_wager > 0`) give feed players tickets for wager growth inside the window;
    giveaways (`ticket_wager = 0`) give one ticket to each eligible player who enters. The seed is drawn when
    the raffle is made and its hash published; the seed itself is shown only once drawn."""

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        OPEN = "open", "Open"
        DRAWN = "drawn", "Drawn"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    prize_pool = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    winners_count = models.PositiveSmallIntegerField(default=1)
    prize_distribution = models.JSONField(
        default=_one_winner,
        validators=[validate_prize_distribution],
        help_text='Percent of the pool per position, e.g. {"1": 50, "2": 30, "3": 20}; the total is at most 100.',
    )
    ticket_wager = models.DecimalField(
        **MONEY, default=Decimal("0"), validators=NON_NEGATIVE,
        help_text="Wager growth per ticket; 0 makes it a giveaway (one ticket per player who enters).",
    )  # fmt: skip
    min_tier = models.ForeignKey(
        "vip.VipTier", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Only players who reached this tier are entries.",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPCOMING, db_index=True)
    server_seed = models.CharField(max_length=64, default=seed_new, editable=False)
    server_seed_hash = models.CharField(max_length=64, blank=True, editable=False)
    entries_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    entries_count = models.PositiveIntegerField(default=0, editable=False)  # frozen with the digest
    tickets_total = models.PositiveIntegerField(default=0, editable=False)
    drawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-ends_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="raffle_window_valid"),
            models.CheckConstraint(condition=Q(prize_pool__gte=0), name="raffle_pool_non_negative"),
            models.CheckConstraint(condition=Q(ticket_wager__gte=0), name="raffle_ticket_wager_non_negative"),
            models.CheckConstraint(condition=Q(winners_count__gte=1), name="raffle_winners_count_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["upcoming", "open", "drawn", "cancelled"]), name="raffle_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="raffle_status_ends")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if not self.server_seed_hash:
            self.server_seed_hash = seed_hash(self.server_seed)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The raffle must end after it starts."})
        positions = len(self.prize_distribution or {})
        if positions and self.winners_count and positions > self.winners_count:
            raise ValidationError(
                {"prize_distribution": f"{positions} paid positions but only {self.winners_count} winner(s)."}
            )

    @property
    def is_giveaway(self) -> bool:
        return self.ticket_wager == 0

    def has_ended(self, at: datetime) -> bool:
        """The race engine's window rule: nothing that happens or arrives after `ends_at` counts."""
        return window_ended(self.ends_at, at)

    @staticmethod
    def not_ended_q(at: datetime) -> Q:
        return window_open_q("ends_at", at)

    @property
    def seed_revealed(self) -> str | None:
        return self.server_seed if self.status == self.Status.DRAWN else None


class RaffleEntry(models.Model):
    """One player's tickets in one raffle: measured from the feed (wager raffles; `baseline_all_time` is their
    all-time wager when the raffle opened) or one for entering (giveaways, `user` who pressed Enter)."""

    raffle = models.ForeignKey(Raffle, on_delete=models.CASCADE, related_name="entries")
    player = models.ForeignKey("races.Player", on_delete=models.PROTECT, related_name="raffle_entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="raffle_entries"
    )
    baseline_all_time = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    measured = models.DecimalField(**WAGER, validators=NON_NEGATIVE)
    tickets = models.PositiveIntegerField(default=0)
    in_draw = models.BooleanField(default=False, help_text="One of the entries hashed and drawn (set by the draw).")
    entered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["raffle", "-tickets", "player__uid"]
        constraints = [
            models.UniqueConstraint(fields=["raffle", "player"], name="raffle_entry_unique"),
            models.CheckConstraint(condition=Q(measured__gte=0), name="raffle_entry_measured_non_negative"),
        ]
        indexes = [models.Index(fields=["raffle", "tickets"], name="raffle_entry_tickets")]
        verbose_name_plural = "raffle entries"

    def __str__(self) -> str:
        return f"{self.player_id} in {self.raffle_id}: {self.tickets}"


class RaffleWinner(models.Model):
    """A drawn winner (frozen; written once by the draw). Name and uid as they were at the draw."""

    raffle = models.ForeignKey(Raffle, on_delete=models.CASCADE, related_name="winners")
    position = models.PositiveSmallIntegerField()
    player = models.ForeignKey("races.Player", on_delete=models.PROTECT, related_name="raffle_wins")
    uid = models.CharField(max_length=64)
    name = models.CharField(max_length=64)
    tickets = models.PositiveIntegerField()
    prize = models.DecimalField(**MONEY, default=Decimal("0"), validators=NON_NEGATIVE)
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["raffle", "position"]
        constraints = [
            models.UniqueConstraint(fields=["raffle", "position"], name="raffle_winner_position_unique"),
            models.UniqueConstraint(fields=["raffle", "player"], name="raffle_winner_player_unique"),
            models.CheckConstraint(condition=Q(prize__gte=0), name="raffle_winner_prize_non_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.name} in {self.raffle}"
