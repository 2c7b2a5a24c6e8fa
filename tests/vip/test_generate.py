"""Generated bonus codes: the admin form has the fields of a single code, every code of a batch carries them, and
an account claims at most one code of a batch."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from tests.factories import BonusCodeFactory, PlayerFactory, UserFactory
from vip import services
from vip.models import BonusCode, BonusCodeClaim, VipTier, WagerPeriod

pytestmark = pytest.mark.django_db

BATCH_CLAIMED = "You already claimed a code from this batch."


def _verified(all_time: str = "0") -> object:
    player = PlayerFactory(wager_all_time=Decimal(all_time))
    return UserFactory(email_verified=True, verification_status="verified", player=player)


def _form(**overrides) -> dict:
    """A valid POST of the generate form (the expiry is the admin's split date and time widget)."""
    expires = timezone.now() + timedelta(days=14)
    data = {
        "prefix": "VIPGOLD", "count": "5", "amount": "25", "claim_limit": "1",
        "expires_at_0": expires.strftime("%Y-%m-%d"), "expires_at_1": "12:00:00", "description": "Gold week",
        "audience": BonusCode.Audience.VERIFIED, "min_tier": str(VipTier.objects.get(slug="gold").pk),
        "required_wager": "500", "required_wager_period": WagerPeriod.MONTHLY,
    }  # fmt: skip
    data.update(overrides)
    return data


# --- the admin form -------------------------------------------------------------------------------------------


def test_the_generate_form_has_the_fields_of_a_single_code(client, staff_user):
    client.force_login(staff_user)
    page = client.get(reverse("admin:vip_bonuscode_generate")).content.decode()
    for name in ("prefix", "count", "amount", "claim_limit", "expires_at_0", "expires_at_1", "description",
                 "audience", "min_tier", "required_wager", "required_wager_period"):  # fmt: skip
        assert f'name="{name}"' in page
    assert "Verified players" in page  # the audience choices
    assert "Gold" in page  # the tiers
    assert 'id="generate-submit"' in page


def test_generated_codes_all_carry_the_tier_audience_required_wager_and_expiry(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("admin:vip_bonuscode_generate"), _form())
    assert response.status_code == 302
    codes = list(BonusCode.objects.filter(code__startswith="VIPGOLD-"))
    assert len(codes) == 5
    batch = codes[0].batch
    assert batch is not None
    assert response["Location"] == f"../?batch={batch}"
    gold = VipTier.objects.get(slug="gold")
    expires = (timezone.now() + timedelta(days=14)).replace(hour=12, minute=0, second=0, microsecond=0)
    for code in codes:
        assert code.batch == batch
        assert code.audience == BonusCode.Audience.VERIFIED
        assert code.min_tier == gold
        assert code.required_wager == Decimal("500")
        assert code.required_wager_period == WagerPeriod.MONTHLY
        assert code.expires_at == expires
        assert code.claim_limit == 1
        assert code.amount == Decimal("25")
        assert code.created_by == staff_user
    entry = AuditEntry.objects.get(action="bonus_code.generate")
    assert entry.after["batch"] == str(batch)
    assert entry.after["min_tier"] == "Gold"
    assert entry.source == AuditEntry.Source.ADMIN
    changelist = client.get(reverse("admin:vip_bonuscode_changelist"), {"batch": str(batch)}).content.decode()
    assert "5 bonus codes" in changelist


def test_two_batches_get_different_batch_ids(staff_user):
    first = services.bonus_codes_generate(prefix="A", count=2, amount=Decimal("1"), actor=staff_user)
    second = services.bonus_codes_generate(prefix="B", count=2, amount=Decimal("1"), actor=staff_user)
    assert first[0].batch == first[1].batch != second[0].batch == second[1].batch


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"expires_at_0": "2020-01-01"}, "expires_at", "must expire in the future"),
        ({"expires_at_0": "not a date"}, "expires_at", "Enter a valid date"),
        ({"claim_limit": "0"}, "claim_limit", "greater than or equal to 1"),
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
        ({"required_wager": "-1"}, "required_wager", "greater than or equal to 0"),
        ({"required_wager_period": "yearly"}, "required_wager_period", "Select a valid choice"),
        ({"audience": "vips"}, "audience", "Select a valid choice"),
        ({"min_tier": "999999"}, "min_tier", "Select a valid choice"),
        ({"prefix": "no spaces"}, "prefix", "Enter a valid value"),
        ({"count": "0"}, "count", "greater than or equal to 1"),
        ({"count": "1001"}, "count", "less than or equal to 1000"),
        ({"amount": ""}, "amount", "This field is required"),
    ],
)
def test_bad_input_is_a_form_error_and_generates_nothing(client, staff_user, overrides, field, message):
    client.force_login(staff_user)
    response = client.post(reverse("admin:vip_bonuscode_generate"), _form(**overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please correct the errors below." in page
    assert message in " ".join(response.context["form"].errors[field])
    assert not BonusCode.objects.exists()


def test_the_generate_page_needs_the_add_permission(client, player_user):
    client.force_login(player_user)
    response = client.get(reverse("admin:vip_bonuscode_generate"))
    assert response.status_code == 302  # to the admin login
    assert not BonusCode.objects.exists()


def test_the_service_validates_generated_codes_like_a_single_code(staff_user):
    with pytest.raises(services.ServiceError) as refused:
        services.bonus_codes_generate(
            prefix="OLD", count=3, amount=Decimal("1"), expires_at=timezone.now() - timedelta(hours=1)
        )
    assert "expires_at" in refused.value.fields
    with pytest.raises(services.ServiceError) as refused:
        services.bonus_codes_generate(prefix="ZERO", count=3, amount=Decimal("1"), claim_limit=0)
    assert "claim_limit" in refused.value.fields
    assert not BonusCode.objects.exists()


def test_a_new_single_code_must_expire_in_the_future_but_an_expired_one_can_still_be_edited():
    with pytest.raises(ValidationError) as refused:
        BonusCode(code="LATE1", amount=1, expires_at=timezone.now() - timedelta(minutes=1)).full_clean()
    assert "expires_at" in refused.value.message_dict
    old = BonusCodeFactory(expires_at=timezone.now() - timedelta(days=1))
    old.description = "ran last week"
    old.full_clean()


# --- claiming generated codes -----------------------------------------------------------------------------------


def test_an_account_claims_at_most_one_code_of_a_batch(staff_user):
    codes = services.bonus_codes_generate(prefix="ONE", count=5, amount=Decimal("5"), actor=staff_user)
    user, other = _verified(), _verified()
    services.bonus_code_claim(user, codes[0].code)
    for code in codes[1:]:
        with pytest.raises(services.RewardRefused) as refused:
            services.bonus_code_claim(user, code.code)
        assert refused.value.code == "already_claimed"
        assert refused.value.message == BATCH_CLAIMED
    with pytest.raises(services.RewardRefused) as again:
        services.bonus_code_claim(user, codes[0].code)
    assert again.value.message == "You have already claimed this code."
    assert BonusCodeClaim.objects.filter(user=user).count() == 1
    assert BonusCode.objects.filter(pk__in=[c.pk for c in codes[1:]], claims_count=0).count() == 4
    services.bonus_code_claim(other, codes[1].code)  # another account still may
    fresh = services.bonus_codes_generate(prefix="TWO", count=1, amount=Decimal("5"), actor=staff_user)
    services.bonus_code_claim(user, fresh[0].code)  # and another batch is another batch


def test_after_claiming_one_code_of_a_batch_its_other_codes_are_no_longer_offered(staff_user):
    from vip.selectors import bonus_codes_for

    codes = services.bonus_codes_generate(prefix="GIFT", count=3, amount=Decimal("5"), actor=staff_user)
    single = BonusCodeFactory(code="SOLO5")
    user, other = _verified(), _verified()
    assert {c.code for c in bonus_codes_for(user)} == {c.code for c in codes} | {"SOLO5"}
    services.bonus_code_claim(user, codes[1].code)
    offered = {c.code: c.claimed for c in bonus_codes_for(user)}
    assert offered == {codes[1].code: True, single.code: False}  # the claimed one stays, marked
    assert len(bonus_codes_for(other)) == 4  # nothing changes for anyone else


def test_codes_outside_any_batch_are_not_limited_by_it():
    user = _verified()
    BonusCodeFactory(code="SOLO1")
    BonusCodeFactory(code="SOLO2")
    services.bonus_code_claim(user, "SOLO1")
    services.bonus_code_claim(user, "SOLO2")
    assert BonusCodeClaim.objects.filter(user=user, batch__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_five_codes_of_a_batch_by_one_account_give_exactly_one():
    codes = services.bonus_codes_generate(prefix="RACE", count=5, amount=Decimal("5"))
    user = _verified()
    barrier, results = threading.Barrier(5), [None] * 5

    def run(i):
        try:
            barrier.wait(10)
            results[i] = services.bonus_code_claim(user, codes[i].code)
        except Exception as exc:
            results[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(isinstance(r, BonusCodeClaim) for r in results) == 1
    refusals = [r for r in results if not isinstance(r, BonusCodeClaim)]
    assert all(isinstance(r, services.RewardRefused) and r.message == BATCH_CLAIMED for r in refusals)
    assert sum(BonusCode.objects.filter(batch=codes[0].batch).values_list("claims_count", flat=True)) == 1


def test_a_player_below_the_batch_tier_cannot_claim_and_one_at_it_can(staff_user):
    gold = VipTier.objects.get(slug="gold")
    codes = services.bonus_codes_generate(prefix="GOLD", count=2, amount=Decimal("5"), min_tier=gold)
    below, at = _verified(all_time="99999.99"), _verified(all_time="100000")
    with pytest.raises(services.NotFound):  # a code for a higher tier does not reveal itself
        services.bonus_code_claim(below, codes[0].code)
    assert services.bonus_code_claim(at, codes[0].code).code == codes[0]


def test_the_api_and_the_page_say_the_batch_was_claimed(verified_api, client, verified_player):
    codes = services.bonus_codes_generate(prefix="API", count=3, amount=Decimal("5"))
    assert verified_api.post(f"/api/v1/bonus-codes/{codes[0].code}/claim/").status_code == 201
    again = verified_api.post(f"/api/v1/bonus-codes/{codes[1].code}/claim/")
    assert again.status_code == 403
    assert again.json()["error"] == {"code": "already_claimed", "message": BATCH_CLAIMED}
    client.force_login(verified_player)
    page = client.post(reverse("vip:claim", args=[codes[2].code]), follow=True).content.decode()
    assert BATCH_CLAIMED in page
    assert not BonusCodeClaim.objects.filter(code=codes[2]).exists()
