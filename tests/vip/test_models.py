from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tests.factories import BonusCodeFactory, UserFactory, WheelSegmentFactory, WheelSpinFactory
from vip.models import BonusCode, BonusCodeClaim, VipTier, WheelSpin


@pytest.mark.django_db
def test_vip_tiers_are_seeded_with_the_design_ladder():
    ladder = list(VipTier.objects.values_list("name", "min_wager"))
    assert ladder == [
        ("Copper", Decimal("0")),
        ("Bronze", Decimal("10000")),
        ("Silver", Decimal("40000")),
        ("Gold", Decimal("100000")),
        ("Platinum", Decimal("450000")),
        ("Pearl", Decimal("1500000")),
        ("Sapphire", Decimal("3000000")),
        ("Emerald", Decimal("7000000")),
        ("Diamond", Decimal("20000000")),
    ]


@pytest.mark.django_db
def test_the_tier_ladder_is_read_from_the_cache_and_an_edit_shows_at_once(django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vip.selectors import TierTable

    assert TierTable().name_for(Decimal("15000")) == "Bronze"
    with CaptureQueriesContext(connection) as ctx:
        table = TierTable()
    assert len(ctx) == 0  # the ladder came from the cache
    assert [t.name for t in table.tiers][:2] == ["Copper", "Bronze"]
    assert table.tiers[1].badge_color  # whole tiers, with their properties

    bronze = VipTier.objects.get(name="Bronze")
    bronze.min_wager = Decimal("20000")
    bronze.save()
    assert TierTable().name_for(Decimal("15000")) == "Copper"
    VipTier.objects.create(name="Tin", slug="tin", min_wager=Decimal("12000"), color="#aaaaaa")
    assert TierTable().name_for(Decimal("15000")) == "Tin"
    VipTier.objects.get(name="Tin").delete()
    assert TierTable().name_for(Decimal("15000")) == "Copper"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bronze.min_wager = Decimal("10000")
        bronze.save()
        TierTable()  # a page reading inside the writing transaction caches what it sees ...
    assert callbacks  # ... and the commit clears it again
    assert TierTable().name_for(Decimal("15000")) == "Bronze"


@pytest.mark.django_db
def test_second_wheel_spin_on_one_utc_day_is_rejected_by_the_database():
    spin = WheelSpinFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WheelSpinFactory(user=spin.user, spin_date=spin.spin_date, segment=spin.segment)


@pytest.mark.django_db
def test_second_wheel_spin_on_one_utc_day_gets_a_clear_message():
    spin = WheelSpinFactory()
    again = WheelSpin(
        user=spin.user,
        spin_date=spin.spin_date,
        segment=spin.segment,
        server_seed="s",
        server_seed_hash="h",
        client_seed="c",
        roll=1,
    )
    with pytest.raises(ValidationError) as exc:
        again.validate_constraints()
    assert exc.value.messages == ["You have already spun the wheel today (UTC)."]


@pytest.mark.django_db
def test_a_spin_on_the_next_utc_day_is_allowed():
    spin = WheelSpinFactory()
    WheelSpinFactory(user=spin.user, spin_date=spin.spin_date + timedelta(days=1), segment=spin.segment)
    assert WheelSpin.objects.filter(user=spin.user).count() == 2


@pytest.mark.django_db
def test_second_claim_of_one_code_by_one_user_is_rejected():
    code, user = BonusCodeFactory(), UserFactory()
    BonusCodeClaim.objects.create(code=code, user=user)
    duplicate = BonusCodeClaim(code=code, user=user)
    with pytest.raises(ValidationError) as exc:
        duplicate.validate_constraints()
    assert exc.value.messages == ["You have already claimed this code."]
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.django_db
def test_claim_counter_cannot_pass_the_claim_limit():
    code = BonusCodeFactory(claim_limit=1)
    BonusCode.objects.filter(pk=code.pk).update(claims_count=F("claims_count") + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        BonusCode.objects.filter(pk=code.pk).update(claims_count=F("claims_count") + 1)
    code.refresh_from_db()
    assert code.claims_count == 1
    assert code.remaining == 0


@pytest.mark.django_db
def test_unlimited_code_accepts_any_number_of_claims():
    code = BonusCodeFactory(claim_limit=None)
    BonusCode.objects.filter(pk=code.pk).update(claims_count=10_000)
    code.refresh_from_db()
    assert code.remaining is None


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["amount", "required_wager"])
def test_negative_bonus_amounts_are_rejected(field):
    with pytest.raises(IntegrityError), transaction.atomic():
        BonusCodeFactory(**{field: Decimal("-1")})
    with pytest.raises(ValidationError) as exc:
        BonusCode(code="NEGATIVE1", amount=Decimal("-1") if field == "amount" else 1, required_wager=-1).full_clean()
    assert "Ensure this value is greater than or equal to 0." in exc.value.message_dict[field]


@pytest.mark.django_db
def test_bonus_code_format_is_validated():
    with pytest.raises(ValidationError) as exc:
        BonusCode(code="no spaces!", amount=1).full_clean()
    assert exc.value.message_dict["code"] == ["Codes are 3–32 characters: A–Z, 0–9, - and _."]


@pytest.mark.django_db
def test_expired_code_reports_expired():
    assert BonusCodeFactory(expires_at=timezone.now() - timedelta(seconds=1)).is_expired
    assert not BonusCodeFactory(expires_at=None).is_expired


@pytest.mark.django_db
def test_wheel_segment_weight_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        WheelSegmentFactory(weight=0)
