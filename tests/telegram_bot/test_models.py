import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import VerificationRequest
from tests.factories import UserFactory, VerificationRequestFactory


@pytest.mark.django_db
def test_one_pending_verification_request_per_user():
    first = VerificationRequestFactory()
    second = VerificationRequest(user=first.user, goated_name="Other")
    with pytest.raises(ValidationError) as exc:
        second.validate_constraints()
    assert exc.value.messages == ["You already have a verification request waiting for review."]
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


@pytest.mark.django_db
def test_a_new_request_is_allowed_once_the_previous_one_was_decided():
    first = VerificationRequestFactory(status=VerificationRequest.Status.REJECTED)
    VerificationRequestFactory(user=first.user)
    assert VerificationRequest.objects.filter(user=first.user).count() == 2


@pytest.mark.django_db
def test_one_pending_verification_request_per_telegram_account():
    VerificationRequestFactory(user=None, telegram_id=42)
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationRequestFactory(user=UserFactory(), telegram_id=42)


@pytest.mark.django_db
def test_a_request_needs_a_site_user_or_a_telegram_account():
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationRequestFactory(user=None, telegram_id=None)
