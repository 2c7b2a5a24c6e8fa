"""Erasure: every field of the account is erased or on the keep-list, the person cannot sign in, the records the
operator must keep survive under a pseudonym, and audit rows no longer carry the person's values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from rest_framework.authtoken.models import Token

from accounts.erasure import ERASED, KEPT, RELATED_ERASED, RELATED_KEPT, ROWS_DELETED
from accounts.models import User, VerificationRequest
from core.audit import audit_record
from core.models import AuditEntry
from notifications.models import NewsletterSubscription, Notification
from payouts.models import Payout
from races.models import Player, RaceResult
from support.models import SupportTicket, TicketMessage
from tests.factories import WagerRaceFactory

pytestmark = pytest.mark.django_db


def test_every_field_of_the_account_is_erased_or_kept_for_a_reason():
    fields = {f.name for f in User._meta.concrete_fields}
    unlisted = fields - set(ERASED) - set(KEPT)
    assert not unlisted, f"say in accounts/erasure.py what erasure does to {unlisted}"
    assert set(ERASED) & set(KEPT) == set()
    assert all(reason.strip() for reason in KEPT.values())


def _referencing_models() -> dict[str, object]:
    """Every model (no proxies) with a field that references the account or a feed player, and the player."""
    found = {"races.Player": Player}
    for model in apps.get_models():
        if model._meta.proxy or model is User:
            continue
        if any(f.is_relation and f.related_model in (User, Player) for f in model._meta.concrete_fields):
            found[model._meta.label] = model
    return found


def test_every_field_of_every_model_that_references_the_account_or_its_player_is_erased_or_kept():
    models = _referencing_models()
    problems = []
    for label, model in sorted(models.items()):
        fields = {f.name for f in model._meta.concrete_fields}
        if label in ROWS_DELETED:
            assert ROWS_DELETED[label].strip()
            continue
        reason, kept = RELATED_KEPT.get(label, ("", set()))
        if label in RELATED_KEPT:
            assert reason.strip(), label
        if kept is None:  # a staff member's record: the account only as the staff member who made it
            refs = {f.name for f in model._meta.concrete_fields if f.is_relation and f.related_model in (User, Player)}
            if refs != {"created_by"}:
                problems.append(f"{label}: references {refs - {'created_by'}} — classify its fields")
            continue
        erased = RELATED_ERASED.get(label, set())
        if erased & kept:
            problems.append(f"{label}: {erased & kept} both erased and kept")
        if unlisted := fields - erased - kept:
            problems.append(f"{label}: say in accounts/erasure.py what erasure does to {sorted(unlisted)}")
        if stale := (erased | kept) - fields:
            problems.append(f"{label}: no such fields {sorted(stale)}")
    assert problems == []
    listed = set(ROWS_DELETED) | set(RELATED_ERASED) | set(RELATED_KEPT)
    assert listed - set(models) == set(), "accounts/erasure.py lists models that no longer reference the account"


def test_the_field_lists_would_catch_a_new_unclassified_field(monkeypatch):
    monkeypatch.setitem(RELATED_KEPT, "vip.BonusCodeClaim", (RELATED_KEPT["vip.BonusCodeClaim"][0], {"id"}))
    with pytest.raises(AssertionError, match="BonusCodeClaim"):
        test_every_field_of_every_model_that_references_the_account_or_its_player_is_erased_or_kept()


def test_erasing_an_account_forgets_the_person_and_keeps_the_records(api_client, verified_player, password):
    user, player = verified_player, verified_player.player
    user.display_name, user.bio, user.telegram_id, user.telegram_username = "Goaty", "I love slots", 777, "goatyt"
    user.save()
    race = WagerRaceFactory()
    result = RaceResult.objects.create(race=race, player=player, rank=1, name=player.name, uid=player.uid,
                                       prize=Decimal("5"))  # fmt: skip
    payout = Payout.objects.create(result=result, race=race, player=player, amount=Decimal("5"),
                                   destination=player.name)  # fmt: skip
    ticket = SupportTicket.objects.create(user=user, subject="My email goat@example.com", description="Call me")
    TicketMessage.objects.create(ticket=ticket, author=user, body="My phone is 555")
    Notification.objects.create(user=user, title="Hi")
    NewsletterSubscription.objects.create(email=user.email)
    Token.objects.create(user=user)
    audit_record(actor=user, action="profile.change", target=user, before={"display_name": "Old", "bio": "x"},
                 after={"display_name": "Goaty", "email": user.email})  # fmt: skip
    claim = VerificationRequest.objects.create(user=user, telegram_id=777, telegram_username="goatyt",
                                              goated_name=player.name, admin_notes="Called goat at 555")  # fmt: skip
    LogEntry.objects.create(user=user, content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk),
                            object_repr=user.username, action_flag=CHANGE)  # fmt: skip
    api_client.force_authenticate(user)
    wrong = api_client.delete("/api/v1/me/", {"password": "nope"}, format="json")
    assert wrong.status_code == 400
    assert api_client.delete("/api/v1/me/", {"password": password}, format="json").status_code == 204
    user.refresh_from_db()
    for field, value in ERASED.items():
        expected = value(user) if callable(value) else value
        if field == "password":
            assert not user.has_usable_password()
        elif field == "player":
            assert user.player_id is None
        else:
            assert getattr(user, field) == expected, field
    assert authenticate(username="goat", password=password) is None
    assert not Token.objects.filter(user=user).exists()
    assert not Notification.objects.filter(user=user).exists()
    assert not NewsletterSubscription.objects.filter(email__iexact="goat@example.com").exists()
    # Kept: the payout and the result (under the pseudonymous account), the ticket without its text.
    assert Payout.objects.filter(pk=payout.pk).exists()
    assert RaceResult.objects.filter(pk=result.pk).exists()
    ticket.refresh_from_db()
    assert "goat@example.com" not in ticket.subject
    assert ticket.description == "[erased]"
    assert TicketMessage.objects.get(ticket=ticket).body == "[erased]"
    player.refresh_from_db()
    assert player.name_display == "hidden"
    claim.refresh_from_db()
    assert (claim.telegram_id, claim.telegram_username, claim.admin_notes) == (None, "", "")
    assert LogEntry.objects.get().object_repr == f"erased-{user.pk}"
    entry = AuditEntry.objects.get(action="profile.change")
    text = f"{entry.actor_label} {entry.target_repr} {entry.before} {entry.after}"
    for personal in ("goat", "Goaty", "goat@example.com", "Old"):
        assert personal not in text.replace("erased-", ""), personal
    assert AuditEntry.objects.filter(action="account.erase", target_id=str(user.pk)).count() == 1


def test_the_settings_page_erases_and_signs_out(client, verified_player, password):
    client.force_login(verified_player)
    assert 'id="erase"' in client.get("/accounts/settings/").content.decode()
    wrong = client.post("/accounts/settings/", {"section": "erase", "password": "nope"})
    assert wrong.status_code == 400
    done = client.post("/accounts/settings/", {"section": "erase", "password": password})
    assert done.status_code == 302
    assert client.get("/accounts/settings/").status_code == 302  # signed out: to the sign-in page
    verified_player.refresh_from_db()
    assert verified_player.username == f"erased-{verified_player.pk}"


def test_erasure_forgets_the_campaign_clicked_and_unties_experiment_exposures(api_client):
    from django.utils import timezone

    from experiments.models import Experiment, Exposure, Variant
    from growth.models import CampaignTouch, PlayerAttribution
    from tests.factories import TEST_PASSWORD, PlayerFactory, UserFactory

    player = PlayerFactory(name="Clicker")
    user = UserFactory(player=player)
    now = timezone.now()
    CampaignTouch.objects.create(user=user, campaign="stream-7", clicked_at=now)
    PlayerAttribution.objects.create(player=player, campaign="stream-7", clicked_at=now)
    experiment = Experiment.objects.create(key="hero", name="Hero", slot="home.hero", starts_at=now)
    variant = Variant.objects.create(experiment=experiment, key="control")
    Exposure.objects.create(experiment=experiment, variant=variant, visitor="f" * 64, user=user)
    api_client.force_authenticate(user)
    assert api_client.delete("/api/v1/me/", {"password": TEST_PASSWORD}, format="json").status_code == 204
    assert not CampaignTouch.objects.exists()
    assert PlayerAttribution.objects.filter(player=player, campaign="stream-7").exists()  # a count, kept
    exposure = Exposure.objects.get()
    assert exposure.user_id is None
    assert exposure.visitor == "f" * 64
