import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from tests.factories import PlayerFactory, UserFactory


@pytest.mark.django_db
def test_email_is_unique_whatever_its_case():
    UserFactory(email="Goat@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="goat@example.COM")


@pytest.mark.django_db
def test_duplicate_email_gets_a_clear_message():
    UserFactory(email="goat@example.com")
    with pytest.raises(ValidationError) as exc:
        User(username="second", email="GOAT@example.com").validate_constraints()
    assert exc.value.messages == ["An account with this email address already exists."]


@pytest.mark.django_db
@pytest.mark.parametrize("colour", ["red", "#12345", "#GGGGGG", "D7FF00", "#D7FF00 "])
def test_profile_colour_must_be_hex(colour):
    user = UserFactory.build(profile_color=colour)
    with pytest.raises(ValidationError) as exc:
        user.full_clean(exclude=["password"])
    assert "Enter a colour as #RRGGBB, for example #D7FF00." in exc.value.message_dict["profile_color"]


@pytest.mark.django_db
def test_profile_colour_default_is_the_brand_yellow():
    assert UserFactory().profile_color == "#D7FF00"


@pytest.mark.django_db
def test_telegram_account_links_to_one_user_only():
    UserFactory(telegram_id=123456789)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(telegram_id=123456789)


@pytest.mark.django_db
def test_a_player_links_to_at_most_one_user():
    player = PlayerFactory()
    UserFactory(player=player)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(player=player)


@pytest.mark.django_db
def test_passwords_are_hashed_never_stored_plain(password, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory()
    assert user.password.startswith("pbkdf2_sha256$")
    assert password not in user.password
    assert user.check_password(password)


@pytest.mark.django_db
def test_unknown_verification_status_is_rejected_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(verification_status="maybe")
