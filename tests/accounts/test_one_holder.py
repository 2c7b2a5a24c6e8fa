"""One Goated player, one holder: a Telegram-only approval counts as much as a site link, a second holder is
refused at the claim, at the review and by the database, and the bot's identity follows the site's rule (a ban
or an unlink ends it)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User, VerificationRequest
from accounts.selectors import player_for
from accounts.services import (
    ClaimRefused,
    goated_claim_request,
    telegram_link_token_consume,
    telegram_link_token_issue,
    user_player_unlink,
    user_set_active,
    verification_approve,
    verification_request_create,
)
from tests.core.test_migrations import _migrate
from tests.factories import PlayerFactory, UserFactory, VerificationRequestFactory

ALICE_TG, BOB_TG, CAROL_TG, REVIEWER_TG = 1001, 2002, 3003, 9009


@pytest.fixture
def reviewer(db):
    user = UserFactory(username="reviewer", is_staff=True, telegram_id=REVIEWER_TG)
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.fixture
def goat(db):
    return PlayerFactory(name="LuckyGoat88")


def _approve_for_telegram_alone(goat, reviewer, telegram_id=ALICE_TG) -> VerificationRequest:
    request = verification_request_create(goated_name="LuckyGoat88", telegram_id=telegram_id)
    return verification_approve(request.pk, actor=reviewer)


# --- claims and approvals -------------------------------------------------------------------------------------


def test_a_player_approved_for_a_telegram_account_alone_cannot_be_claimed_by_anyone_else(goat, reviewer):
    _approve_for_telegram_alone(goat, reviewer)
    with pytest.raises(ClaimRefused, match="already linked to another account"):
        goated_claim_request(UserFactory(), "LuckyGoat88")  # the site form
    with pytest.raises(ClaimRefused, match="already linked to another account"):
        verification_request_create(goated_name="luckygoat88", telegram_id=BOB_TG)  # /verify
    assert VerificationRequest.objects.count() == 1


def test_a_second_holder_is_refused_at_approval_and_the_claim_stays_pending(goat, reviewer):
    first = verification_request_create(goated_name="LuckyGoat88", telegram_id=ALICE_TG)
    site_user = UserFactory()
    second = goated_claim_request(site_user, "LuckyGoat88")
    third = verification_request_create(goated_name="LuckyGoat88", telegram_id=CAROL_TG)
    verification_approve(first.pk, actor=reviewer)
    for claim in (second, third):
        with pytest.raises(ClaimRefused, match="reject this request instead"):
            verification_approve(claim.pk, actor=reviewer)
        claim.refresh_from_db()
        assert claim.status == VerificationRequest.Status.PENDING
    site_user.refresh_from_db()
    assert site_user.player_id is None
    assert VerificationRequest.objects.filter(status="approved").count() == 1
    assert player_for(ALICE_TG) == goat
    assert player_for(CAROL_TG) is None


def test_a_player_linked_to_a_site_account_is_refused_to_a_telegram_only_claim_at_approval(goat, reviewer):
    pending = verification_request_create(goated_name="LuckyGoat88", telegram_id=CAROL_TG)
    UserFactory(player=goat, verification_status="verified")  # linked meanwhile (or before verification existed)
    with pytest.raises(ClaimRefused, match="reject this request instead"):
        verification_approve(pending.pk, actor=reviewer)
    assert player_for(CAROL_TG) is None


def test_the_database_holds_at_most_one_approval_per_player(goat):
    VerificationRequestFactory(user=None, telegram_id=ALICE_TG, player=goat, status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationRequestFactory(user=UserFactory(), player=goat, status="approved")
    VerificationRequestFactory(user=UserFactory(), player=goat, status="rejected")  # decided claims stay on record


# --- the bot's identity is the site's --------------------------------------------------------------------------


def test_a_ban_ends_the_bot_identity_of_a_player_verified_through_the_bot(goat, reviewer):
    user = UserFactory(telegram_id=ALICE_TG)
    request = verification_request_create(goated_name="LuckyGoat88", telegram_id=ALICE_TG)
    verification_approve(request.pk, actor=reviewer)
    assert player_for(ALICE_TG) == goat
    user_set_active(user, active=False, actor=reviewer)
    assert player_for(ALICE_TG) is None
    with pytest.raises(ClaimRefused, match="suspended"):  # nor may the banned account claim from Telegram alone
        verification_request_create(goated_name="Other", telegram_id=ALICE_TG)
    with pytest.raises(ClaimRefused, match="already linked to another account"):  # a ban is not an unlink
        verification_request_create(goated_name="LuckyGoat88", telegram_id=BOB_TG)
    user_set_active(user, active=True, actor=reviewer)
    assert player_for(ALICE_TG) == goat


def test_an_unlink_ends_the_bot_identity_and_frees_the_player(goat, reviewer):
    user = UserFactory(telegram_id=ALICE_TG)
    request = verification_request_create(goated_name="LuckyGoat88", telegram_id=ALICE_TG)
    verification_approve(request.pk, actor=reviewer)
    user.refresh_from_db()
    assert user_player_unlink(user, actor=reviewer)
    assert player_for(ALICE_TG) is None
    request.refresh_from_db()
    assert request.status == VerificationRequest.Status.REVOKED
    claim = verification_request_create(goated_name="LuckyGoat88", telegram_id=BOB_TG)  # free again
    verification_approve(claim.pk, actor=reviewer)
    assert player_for(BOB_TG) == goat
    assert player_for(ALICE_TG) is None


def test_linking_a_site_account_carries_a_telegram_only_approval_over_to_it(goat, reviewer):
    request = _approve_for_telegram_alone(goat, reviewer)
    user = UserFactory()
    telegram_link_token_consume(telegram_link_token_issue(user), ALICE_TG, "alice")
    user.refresh_from_db()
    request.refresh_from_db()
    assert (user.player, user.verification_status, request.user) == (goat, User.VerificationStatus.VERIFIED, user)
    assert player_for(ALICE_TG) == goat
    user_player_unlink(user, actor=reviewer)  # and the site's unlink now ends it for the bot too
    assert player_for(ALICE_TG) is None


# --- the migration: existing duplicates ------------------------------------------------------------------------

BEFORE = [("accounts", "0006_show_stats_help"), ("races", "0011_adjustment_review"), ("core", "0002_feature_switches")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_earliest_approval_and_rejects_the_others_with_a_reason():
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Player, OldUser = old.get_model("races", "Player"), old.get_model("accounts", "User")
    Request = old.get_model("accounts", "VerificationRequest")
    goat = Player.objects.create(uid="uid-dup-goat", name="DupGoat")
    late_site = OldUser.objects.create(username="late", email="late@example.com", player=goat,
                                       verification_status="verified")  # fmt: skip
    unlinked = OldUser.objects.create(username="unlinked", email="unlinked@example.com", telegram_id=CAROL_TG)
    now = timezone.now()

    def approved(minutes_ago, **kw):
        at = now - timezone.timedelta(minutes=minutes_ago)
        return Request.objects.create(goated_name="DupGoat", player=goat, status="approved", decided_at=at, **kw)

    first = approved(30, telegram_id=ALICE_TG)  # Telegram alone, approved first
    second = approved(20, telegram_id=BOB_TG)  # Telegram alone, approved later
    third = approved(10, user=late_site)  # a site account, approved last
    stale = approved(40, user=unlinked, telegram_id=CAROL_TG)  # staff unlinked it long ago

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    statuses = dict(VerificationRequest.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "approved", second.pk: "rejected", third.pk: "rejected", stale.pk: "revoked"}
    assert "approved first" in VerificationRequest.objects.get(pk=second.pk).admin_notes
    late = User.objects.get(username="late")
    assert (late.player_id, late.verification_status) == (None, "rejected")
    assert player_for(ALICE_TG).name == "DupGoat"
    assert player_for(BOB_TG) is None
    assert player_for(CAROL_TG) is None
