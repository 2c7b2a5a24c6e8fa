"""Four eyes on money (issue 29): one operator can no longer claim a Goated player, approve the claim, credit the
player, approve the payout and mark it paid. Each refusal is a SeparationOfDuties error, shown in admin as an
error and written to the audit log. Every test here fails on 8d96fe4 (where none of this was refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import VerificationRequest
from accounts.services import verification_approve, verification_request_create
from core.errors import SeparationOfDuties
from core.models import AuditEntry
from payouts import services as svc
from payouts.models import Payout
from races.models import Player, RaceParticipant, RaceResult, WagerAdjustment
from races.services.adjustments import adjustment_approve, race_adjust
from tests.factories import PlayerFactory, staff_member
from tests.payouts.test_payouts import cashier, finished, operator  # noqa: F401 (fixtures)
from tests.races.test_race_engine import apply_sync, monthly_race

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vip_ladder")]
MID = datetime(2026, 11, 20, tzinfo=UTC)


def refusals(action: str) -> list[tuple[int | None, str]]:
    return list(AuditEntry.objects.filter(action=f"{action}.refused").values_list("actor", "note"))


def admin_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def standing(race, uid: str) -> tuple[Decimal, Decimal]:
    row = RaceParticipant.objects.get(race=race, player__uid=uid)
    return row.wagered, row.adjustment


# --- verification ----------------------------------------------------------------------------------------------


def test_staff_never_approve_their_own_verification_claim(client):
    PlayerFactory(name="BigGoat")
    insider, reviewer = staff_member("Operators"), staff_member("Operators")
    claim = verification_request_create(user=insider, goated_name="BigGoat")
    with pytest.raises(SeparationOfDuties, match="your own claim"):
        verification_approve(claim.pk, actor=insider)
    claim.refresh_from_db()
    assert claim.status == VerificationRequest.Status.PENDING
    assert refusals("verification.approve") == [(insider.pk, f"Request #{claim.pk} is your own claim: another "
                                                             "reviewer must approve it.")]  # fmt: skip
    # In admin it is an error, and the claim stays pending; another reviewer approves it.
    client.force_login(insider)
    changelist = reverse("admin:accounts_verificationrequest_changelist")
    response = client.post(changelist, {"action": "approve", "_selected_action": [claim.pk]}, follow=True)
    assert ("error", f"Request #{claim.pk} is your own claim: another reviewer must approve it.") in admin_messages(
        response
    )
    assert VerificationRequest.objects.get(pk=claim.pk).status == "pending"
    verification_approve(claim.pk, actor=reviewer)
    insider.refresh_from_db()
    assert insider.player.name == "BigGoat"


# --- adjustments -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock_in_november_race")
def test_no_one_adjusts_the_player_their_own_account_is_linked_to():
    race = monthly_race(prize_distribution={"1": 60, "2": 40})
    apply_sync(MID, {"ace": ("1000", "0", "1000"), "bee": ("900", "0", "900")})
    insider = staff_member("Operators")
    insider.player = Player.objects.get(uid="bee")
    insider.save()
    with pytest.raises(SeparationOfDuties, match="your own player"):
        race_adjust(race.pk, player_id=insider.player_id, amount="500", reason="Missed bets", actor=insider)
    assert standing(race, "bee") == (Decimal("900"), Decimal("0"))
    assert not WagerAdjustment.objects.exists()
    assert [actor for actor, _ in refusals("race.adjust")] == [insider.pk]
    # Another operator may; the insider may adjust someone else.
    other = staff_member("Operators")
    race_adjust(race.pk, player_id=insider.player_id, amount="50", reason="Missed bets", actor=other)
    race_adjust(race.pk, player_id=Player.objects.get(uid="ace").pk, amount="-10", reason="Voided", actor=insider)
    assert standing(race, "bee") == (Decimal("950"), Decimal("50"))


@pytest.mark.usefixtures("clock_in_november_race")
@pytest.mark.parametrize("amount", ["5000", "-5000"])
def test_a_large_adjustment_counts_only_once_a_second_operator_approves_it(settings, client, amount):
    settings.ADJUSTMENT_REVIEW_ABOVE = Decimal("1000")
    race = monthly_race(prize_distribution={"1": 60, "2": 40})
    apply_sync(MID, {"ace": ("9000", "0", "9000"), "bee": ("8000", "0", "8000")})
    author, second = staff_member("Operators"), staff_member("Operators")
    bee = Player.objects.get(uid="bee")
    adjustment = race_adjust(race.pk, player_id=bee.pk, amount=amount, reason="Disputed bets", actor=author)
    assert adjustment.status == WagerAdjustment.Status.PENDING_REVIEW
    assert standing(race, "bee") == (Decimal("8000"), Decimal("0"))  # not counted yet
    apply_sync(MID + timedelta(hours=1), {"ace": ("9000", "0", "9000"), "bee": ("8000", "0", "8000")})
    assert standing(race, "bee") == (Decimal("8000"), Decimal("0"))  # nor by the next sync
    with pytest.raises(SeparationOfDuties, match="is yours"):
        adjustment_approve(adjustment.pk, actor=author)
    assert [actor for actor, _ in refusals("adjustment.approve")] == [author.pk]
    # The author's admin action is an error; the second operator's counts it.
    changelist = reverse("admin:races_wageradjustment_changelist")
    client.force_login(author)
    response = client.post(changelist, {"action": "approve", "_selected_action": [adjustment.pk]}, follow=True)
    assert any(level == "error" and "is yours" in text for level, text in admin_messages(response))
    assert WagerAdjustment.objects.get(pk=adjustment.pk).status == "pending_review"
    client.force_login(second)
    client.post(changelist, {"action": "approve", "_selected_action": [adjustment.pk]})
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.reviewed_by) == ("approved", second)
    assert standing(race, "bee") == (Decimal("8000") + Decimal(amount), Decimal(amount))
    apply_sync(MID + timedelta(hours=2), {"ace": ("9000", "0", "9000"), "bee": ("8100", "0", "8100")})
    assert standing(race, "bee") == (Decimal("8100") + Decimal(amount), Decimal(amount))
    with pytest.raises(Exception, match="already counted"):
        adjustment_approve(adjustment.pk, actor=second)


@pytest.mark.usefixtures("clock_in_november_race")
def test_a_small_adjustment_still_counts_at_once(settings):
    settings.ADJUSTMENT_REVIEW_ABOVE = Decimal("1000")
    race = monthly_race(prize_distribution={"1": 60, "2": 40})
    apply_sync(MID, {"ace": ("9000", "0", "9000")})
    adjustment = race_adjust(race.pk, player_id=Player.objects.get(uid="ace").pk, amount="-1000", reason="Void",
                             actor=staff_member("Operators"))  # fmt: skip
    assert adjustment.status == WagerAdjustment.Status.APPROVED
    assert standing(race, "ace") == (Decimal("8000"), Decimal("-1000"))


# --- payouts ---------------------------------------------------------------------------------------------------


def test_no_one_approves_or_pays_the_payout_of_their_own_player(finished, operator, cashier):  # noqa: F811
    payout = Payout.objects.get(race=finished, result__rank=1)
    insider = staff_member("Operators")
    insider.player = RaceResult.objects.get(race=finished, rank=1).player
    insider.save()
    with pytest.raises(SeparationOfDuties, match="pays your own player"):
        svc.payouts_approve([payout.pk], actor=insider)
    payout.refresh_from_db()
    assert (payout.status, payout.approved_by) == ("pending", None)
    assert [actor for actor, _ in refusals("payout.approve")] == [insider.pk]
    # In a batch, the others are approved and the own one is reported refused.
    report = svc.payouts_approve(Payout.objects.filter(race=finished).values_list("pk", flat=True), actor=insider)
    assert (len(report.changed), list(report.refused)) == (2, [payout.pk])
    svc.payouts_approve([payout.pk], actor=operator)
    with pytest.raises(SeparationOfDuties, match="pays your own player"):
        svc.payouts_mark_paid([payout.pk], actor=insider, reference="TIP-1")
    assert svc.payouts_mark_paid([payout.pk], actor=cashier, reference="TIP-1").changed == [payout.pk]


def test_the_approver_never_marks_the_same_payout_paid(finished, operator, cashier, client):  # noqa: F811
    ids = [p.pk for p in Payout.objects.filter(race=finished).order_by("pk")]
    svc.payouts_approve(ids, actor=operator)
    with pytest.raises(SeparationOfDuties, match="approved by you"):
        svc.payouts_mark_paid(ids[:1], actor=operator, reference="TIP-1")
    assert Payout.objects.get(pk=ids[0]).status == "approved"
    assert len(refusals("payout.pay")) == 1
    # The admin form says so; the payout stays approved.
    client.force_login(operator)
    changelist = reverse("admin:payouts_payout_changelist")
    page = client.post(changelist, {"action": "mark_paid", "_selected_action": ids[:1], "apply": "1",
                                    "reference": "T-1"}).content.decode()  # fmt: skip
    assert "approved by you: another operator must pay it (four eyes)" in page
    assert Payout.objects.get(pk=ids[0]).status == "approved"
    # Nor by importing references, nor by sending it to the provider.
    with pytest.raises(svc.ImportRefused) as refused:
        svc.payouts_import_references(f"payout_id,reference\n{ids[1]},T-2\n".encode(), actor=operator)
    assert "approved by you" in " ".join(refused.value.errors)
    assert svc.payouts_send(ids[2:], actor=operator)["refused"] == 1
    assert Payout.objects.get(pk=ids[2]).status == "approved"
    assert svc.payouts_mark_paid(ids, actor=cashier, reference="TIP-2").changed == ids


def test_four_eyes_can_be_turned_off_for_a_single_operator(finished, operator, settings):  # noqa: F811
    settings.PAYOUT_FOUR_EYES = False
    payout = Payout.objects.get(race=finished, result__rank=1)
    svc.payouts_approve([payout.pk], actor=operator)
    assert svc.payouts_mark_paid([payout.pk], actor=operator, reference="TIP-1").changed == [payout.pk]
