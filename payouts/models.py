"""Money: the payment of prizes (payouts), whatever won them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from races.models import MONEY


class Payout(models.Model):
    """The payment of one prize: pending → approved → paid, or failed / cancelled (payouts.services); approved →
    sending while a provider has been asked to pay it (with `send_key`, the idempotency key it was given).

    A payout has a source: a prize of a finalized race (`result`, and its `race`, whose pool bounds it), or a
    raffle winner's prize (`raffle_winner`, and its `raffle`). One payout per prize (`result` and `raffle_winner`
    are unique), and the payouts of one source never add up to more than its pool: database triggers refuse the
    insert or update that would (payouts 0002 and 0004), whatever writes it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        SENDING = "sending", "Sending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        RACE = "race", "Race prize"
        RAFFLE = "raffle", "Raffle prize"

    source = models.CharField(max_length=16, choices=Source.choices, default=Source.RACE)
    result = models.OneToOneField(
        "races.RaceResult", null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    race = models.ForeignKey("races.WagerRace", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    raffle_winner = models.OneToOneField(
        "giveaways.RaffleWinner", null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    raffle = models.ForeignKey(
        "giveaways.Raffle", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    player = models.ForeignKey("races.Player", on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**MONEY)
    method = models.CharField(max_length=32, default="manual", help_text="The payout provider that pays it.")
    destination = models.CharField(max_length=64, help_text="The Goated username the prize goes to.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    reference = models.CharField(max_length=128, blank=True, help_text="The provider's or the operator's reference.")
    note = models.CharField(max_length=500, blank=True, help_text="Why it failed or was cancelled.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # Given to the provider with the payment, so a repeated request is the same payment (payouts.providers).
    send_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "race", "result__rank"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "sending", "paid", "failed", "cancelled"]),
                name="payout_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (~Q(reference="") & Q(paid_at__isnull=False)),
                name="payout_paid_has_reference",
            ),
            # Each source names the prize it pays and the pool that bounds it, and nothing of another source.
            models.CheckConstraint(
                condition=Q(source="race", result__isnull=False, race__isnull=False, raffle__isnull=True)
                | Q(source="raffle", raffle_winner__isnull=False, raffle__isnull=False, race__isnull=True),
                name="payout_source_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "race"], name="payout_status_race")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.destination} ({self.get_status_display()})"

    # What the prize was won in, whatever the source: for messages, lists and exports.
    @property
    def prize_of(self) -> str:
        return self.race.title if self.race_id else self.raffle.title

    @property
    def place(self) -> int:
        """The rank in the race, or the position drawn in the raffle."""
        return self.result.rank if self.result_id else self.raffle_winner.position

    @property
    def prize_path(self) -> str:
        return f"/races/{self.race_id}/" if self.race_id else f"/raffles/{self.raffle_id}/"
