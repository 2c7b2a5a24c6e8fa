"""An honest wheel and rewards only for real players (the rules of vip/services.py)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import user_player_unlink, verification_approve, verification_request_create
from tests.factories import BonusCodeFactory, PlayerFactory, StaffFactory, UserFactory
from vip.models import BonusCode, BonusCodeClaim, WheelSegment, WheelSpin

pytestmark = pytest.mark.django_db


def _verified(name: str, **player) -> User:
    return UserFactory(
        username=name, email_verified=True, verification_status="verified", player=PlayerFactory(**player)
    )


def _old_seed(user_id: int, day) -> str:
    """The seed the first version derived from SECRET_KEY (anyone with the key could compute it)."""
    message = f"wheel:{user_id}:{day.isoformat()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


# --- the wheel ------------------------------------------------------------------------------------------------


def test_no_server_seed_can_be_derived_from_the_secret_key(api_client, segments):
    user = _verified("spinner")
    api_client.force_authenticate(user)
    today = timezone.now().date()
    spin = api_client.post("/api/v1/wheel/spin/", {}, format="json").json()
    assert spin["server_seed"] != _old_seed(user.pk, today)
    assert hashlib.sha256(_old_seed(user.pk, today).encode()).hexdigest() != spin["server_seed_hash"]
    tomorrow_hash = api_client.get("/api/v1/wheel/").json()["server_seed_hash"]  # already committed for tomorrow
    assert tomorrow_hash != hashlib.sha256(_old_seed(user.pk, today + timedelta(days=1)).encode()).hexdigest()
    assert tomorrow_hash != spin["server_seed_hash"]
    # Two users never share a seed, and asking again shows the same commitment.
    other = _verified("other")
    api_client.force_authenticate(other)
    first, again = (api_client.get("/api/v1/wheel/").json()["server_seed_hash"] for _ in range(2))
    assert first == again
    assert first != spin["server_seed_hash"]


def test_changing_segment_weights_after_a_spin_leaves_its_verification_intact(client, segments):
    user = _verified("spinner")
    client.force_login(user)
    client.post(reverse("vip:spin"))
    spin = WheelSpin.objects.select_related("segment").get(user=user)
    drawn = spin.segment.label  # as it was when the wheel was spun
    WheelSegment.objects.filter(position=0).update(weight=1)
    WheelSegment.objects.filter(position=2).update(weight=10_000, label="Renamed")  # sometimes the drawn one
    query = {"server_seed": spin.server_seed, "client_seed": spin.client_seed, "nonce": spin.nonce}
    page = client.get(reverse("vip:verify"), query).content.decode()
    assert f"Roll: <strong>{spin.roll}</strong> of 100" in page
    assert f"<strong>{drawn}</strong>" in page
    assert "it matches the recorded outcome" in page


def test_a_thousand_spins_through_the_api_match_their_stored_outcomes_recomputed_independently(api_client, segments):
    players = PlayerFactory.create_batch(1000)
    users = User.objects.bulk_create(
        User(username=f"spinner{i}", email=f"s{i}@example.com", email_verified=True, verification_status="verified",
             player=p) for i, p in enumerate(players)
    )  # fmt: skip
    for user in users:
        api_client.force_authenticate(user)
        assert api_client.post("/api/v1/wheel/spin/", {"client_seed": f"c{user.pk}"}, format="json").status_code == 201
    spins = list(WheelSpin.objects.select_related("segment"))
    assert len(spins) == 1000
    for spin in spins:
        assert hashlib.sha256(spin.server_seed.encode()).hexdigest() == spin.server_seed_hash
        digest = hmac.new(spin.server_seed.encode(), f"{spin.client_seed}:{spin.nonce}".encode(), "sha256").digest()
        weights = [int(row[2]) for row in spin.segment_table]
        roll = int.from_bytes(digest[:8], "big") % sum(weights)
        landed, edge = None, 0
        for row, weight in zip(spin.segment_table, weights, strict=True):
            edge += weight
            if roll < edge:
                landed = row
                break
        assert (roll, landed[0], landed[1]) == (spin.roll, spin.segment.position, spin.segment.label)
    labels = {s.segment.label for s in spins}
    assert labels == {"Try again", "$1", "$10"}  # 1,000 draws reach every slice of a 70/25/5 wheel


def test_two_accounts_that_held_one_player_share_one_spin_a_day(api_client, segments):
    goat = PlayerFactory(name="SharedGoat")
    staff = StaffFactory()
    first = UserFactory(username="first", email_verified=True)
    verification_approve(verification_request_create(user=first, goated_name="SharedGoat").pk, actor=staff)
    api_client.force_authenticate(User.objects.get(pk=first.pk))
    assert api_client.post("/api/v1/wheel/spin/", {}, format="json").status_code == 201
    user_player_unlink(User.objects.get(pk=first.pk), actor=staff)
    second = UserFactory(username="second", email_verified=True)
    verification_approve(verification_request_create(user=second, goated_name="SharedGoat").pk, actor=staff)
    api_client.force_authenticate(User.objects.get(pk=second.pk))
    state = api_client.get("/api/v1/wheel/").json()
    assert state["eligible"] is False
    assert state["reason"]["code"] == "already_spun"
    refused = api_client.post("/api/v1/wheel/spin/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "already_spun"
    assert "another account" in refused.json()["error"]["message"]
    assert WheelSpin.objects.filter(player=goat).count() == 1


# --- who may claim and spin -----------------------------------------------------------------------------------


def _account(case: str) -> User:
    if case == "email_unconfirmed":
        return UserFactory(username=case, email_verified=False, verification_status="verified",
                           player=PlayerFactory(wager_all_time=Decimal("50000")))  # fmt: skip
    if case == "unlinked":
        return UserFactory(username=case, email_verified=True)
    if case == "pending":
        user = UserFactory(username=case, email_verified=True)
        verification_request_create(user=user, goated_name=PlayerFactory(name="PendingGoat").name)
        return User.objects.get(pk=user.pk)
    if case == "wager_too_low":
        return _verified(case, wager_all_time=Decimal("99.99"))
    return _verified(case, wager_all_time=Decimal("100"))


@pytest.mark.parametrize(
    ("case", "claim", "spin"),
    [
        ("email_unconfirmed", "email_unconfirmed", "email_unconfirmed"),
        ("unlinked", "not_verified", "not_verified"),
        ("pending", "not_verified", "not_verified"),
        ("wager_too_low", "wager_too_low", None),
        ("eligible", None, None),
    ],
)
def test_claims_and_spins_are_refused_with_a_code_per_reason(api_client, segments, case, claim, spin):
    BonusCodeFactory(code="NEED100", required_wager=Decimal("100"))
    api_client.force_authenticate(_account(case))
    claimed = api_client.post("/api/v1/bonus-codes/NEED100/claim/")
    spun = api_client.post("/api/v1/wheel/spin/", {}, format="json")
    for response, refusal in ((claimed, claim), (spun, spin)):
        if refusal is None:
            assert response.status_code == 201, response.json()
        else:
            assert response.status_code == 403
            assert response.json()["error"]["code"] == refusal
            assert response.json()["error"]["message"]


def test_the_required_wager_reads_the_period_the_code_names(api_client):
    BonusCodeFactory(code="MONTHLY1K", required_wager=Decimal("1000"), required_wager_period="monthly")
    user = _verified("monthly", wager_month=Decimal("999"), wager_all_time=Decimal("100000"))
    api_client.force_authenticate(user)
    refused = api_client.post("/api/v1/bonus-codes/MONTHLY1K/claim/")
    assert refused.json()["error"] == {
        "code": "wager_too_low",
        "message": "This code needs $1,000.00 wagered (this month); you have $999.00. Keep playing under our code "
        "and claim it once you are there.",
    }
    type(user.player).objects.filter(pk=user.player_id).update(wager_month=Decimal("1000"))
    api_client.force_authenticate(User.objects.get(pk=user.pk))  # as the next request would load it
    assert api_client.post("/api/v1/bonus-codes/MONTHLY1K/claim/").status_code == 201


def test_the_pages_say_what_to_do_next(client, segments):
    client.force_login(UserFactory(username="newbie", email_verified=False))
    wheel = client.get(reverse("vip:wheel")).content.decode()
    assert 'data-code="email_unconfirmed"' in wheel
    assert 'id="spin"' not in wheel  # no spin button to press in vain
    codes = client.get(reverse("vip:bonus-codes")).content.decode()
    assert "Confirm your email address first" in codes


def test_a_claimed_code_cannot_be_deleted_in_admin_and_its_claims_stay(client, staff_user, verified_player):
    code = BonusCodeFactory(code="KEEPME")
    BonusCodeClaim.objects.create(code=code, user=verified_player)
    client.force_login(staff_user)
    page = client.post(reverse("admin:vip_bonuscode_delete", args=[code.pk]), {"post": "yes"}).content.decode()
    assert "protected" in page.lower()
    bulk = client.post(
        reverse("admin:vip_bonuscode_changelist"),
        {"action": "delete_selected", "_selected_action": [code.pk], "post": "yes"},
        follow=True,
    ).content.decode()
    assert "protected" in bulk.lower()
    assert BonusCode.objects.filter(code="KEEPME").exists()
    assert BonusCodeClaim.objects.filter(code=code).count() == 1
