"""Account pages: register, email verification, sign-in, password reset, settings, claims, newsletter."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from django.core import mail, signing
from django.test import Client

from accounts.models import User, VerificationRequest
from accounts.services import EMAIL_VERIFY_SALT, email_verification_token
from notifications.email import unsubscribe_token
from notifications.models import NewsletterSubscription
from tests.factories import PlayerFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "tangerine-Zebra-4419"


def _register(client, **overrides):
    data = {"username": "newgoat", "email": "newgoat@example.com", "password1": STRONG, "password2": STRONG,
            "adult": "on", "terms": "on"}  # fmt: skip
    return client.post("/accounts/register/", {**data, **overrides})


def _link(message) -> str:
    return re.search(r"https?://\S+|/accounts/\S+", message.body).group(0)


def test_register_creates_the_account_signs_in_and_sends_a_verification_link(client):
    response = _register(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/"
    user = User.objects.get(username="newgoat")
    assert user.check_password(STRONG)
    assert not user.email_verified
    assert user.notification_preferences is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newgoat@example.com"]
    client.get(_link(mail.outbox[0]))
    user.refresh_from_db()
    assert user.email_verified


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password1": "password", "password2": "password"}, "too common"),
        ({"password2": "different-Password-1"}, "didn’t match"),
        ({"email": "not-an-email"}, "valid email"),
        ({"username": "bad name!"}, "Enter a valid username"),
    ],
)
def test_register_rejects_bad_input_with_clear_errors(client, overrides, message):
    response = _register(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username=overrides.get("username", "newgoat")).exists()


def test_register_refuses_an_email_already_in_use_case_insensitively(client):
    UserFactory(email="Taken@Example.com")
    response = _register(client, email="taken@example.com")
    assert "already exists" in response.content.decode()


def test_a_tampered_or_stale_verification_link_is_refused(client, player_user):
    token = email_verification_token(player_user)
    assert client.get(f"/accounts/verify-email/{token}x/").status_code == 400
    player_user.email = "changed@example.com"
    player_user.save()
    response = client.get(f"/accounts/verify-email/{token}/")
    assert response.status_code == 400
    assert "no longer on the account" in response.content.decode()

    class FourDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 4 * 86400)

    expired = FourDaysAgo(salt=EMAIL_VERIFY_SALT).sign_object({"u": player_user.pk, "e": player_user.email})
    response = client.get(f"/accounts/verify-email/{expired}/")
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_resend_verification(client, player_user):
    client.force_login(player_user)
    client.post("/accounts/verify-email/resend/")
    assert len(mail.outbox) == 1
    assert "email-verify" not in mail.outbox[0].body  # the link, not internals


def test_sign_in_and_out(client, player_user, password):
    response = client.post("/accounts/login/", {"username": player_user.username, "password": password})
    assert response.status_code == 302
    assert client.get("/accounts/settings/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/accounts/settings/")["Location"].startswith("/accounts/login/")


def test_sign_in_refuses_open_redirects(client, player_user, password):
    response = client.post(
        "/accounts/login/?next=https://evil.example/steal",
        {"username": player_user.username, "password": password, "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    ok = Client().post("/accounts/login/", {"username": player_user.username, "password": password, "next": "/races/"})
    assert ok["Location"] == "/races/"


def test_wrong_password_says_so_without_revealing_which_part(client, player_user):
    response = client.post("/accounts/login/", {"username": player_user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_is_rate_limited_with_a_clear_page(client):
    for _ in range(10):
        client.post("/accounts/login/", {"username": "x", "password": "y"})
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


def test_registration_is_rate_limited(client):
    for i in range(5):
        _register(Client(), username=f"user{i}", email=f"user{i}@example.com")
    response = _register(client, username="user9", email="user9@example.com")
    assert response.status_code == 429
    assert not User.objects.filter(username="user9").exists()


def test_password_reset_by_email(client, player_user):
    response = client.post("/accounts/password-reset/", {"email": player_user.email})
    assert response["Location"] == "/accounts/password-reset/sent/"
    link = _link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    client.post(form_page.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    player_user.refresh_from_db()
    assert player_user.check_password(STRONG)


def test_password_reset_for_an_unknown_address_reveals_nothing(client):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


# --- settings ---------------------------------------------------------------------------------------------


def test_settings_need_a_signed_in_user(client):
    assert client.get("/accounts/settings/")["Location"] == "/accounts/login/?next=/accounts/settings/"


def test_settings_show_only_the_signed_in_users_data(client, player_user, other_user):
    client.force_login(player_user)
    page = client.get("/accounts/settings/").content.decode()
    assert player_user.email in page
    assert other_user.email not in page


def test_profile_and_preferences_are_saved(client, player_user):
    client.force_login(player_user)
    response = client.post(
        "/accounts/settings/",
        {
            "section": "profile",
            "profile-display_name": "Lucky G",
            "profile-bio": "Slots",
            "profile-profile_color": "#112233",
        },
    )
    assert response.status_code == 302
    player_user.refresh_from_db()
    assert (player_user.display_name, player_user.profile_color, player_user.show_stats) == (
        "Lucky G",
        "#112233",
        False,
    )
    client.post("/accounts/settings/", {"section": "prefs", "prefs-email_notifications": "on"})
    prefs = player_user.notification_preferences
    prefs.refresh_from_db()
    assert prefs.email_notifications
    assert not prefs.promotional_offers


def test_a_bad_profile_colour_is_refused_and_nothing_changes(client, player_user):
    client.force_login(player_user)
    response = client.post(
        "/accounts/settings/", {"section": "profile", "profile-display_name": "X", "profile-profile_color": "red"}
    )
    assert response.status_code == 400
    player_user.refresh_from_db()
    assert player_user.display_name == ""


def test_claiming_a_goated_player_queues_a_staff_review(client, player_user):
    PlayerFactory(name="LuckyGoat88")
    client.force_login(player_user)
    client.post("/accounts/settings/", {"section": "claim", "claim-goated_name": " luckygoat88 "})
    request = VerificationRequest.objects.get(user=player_user)
    assert request.source == VerificationRequest.Source.SITE
    assert request.player.name == "LuckyGoat88"
    player_user.refresh_from_db()
    assert player_user.verification_status == User.VerificationStatus.PENDING
    again = client.post("/accounts/settings/", {"section": "claim", "claim-goated_name": "LuckyGoat88"})
    assert "waiting for staff review" in again.content.decode()
    assert VerificationRequest.objects.count() == 1


def test_claims_for_unknown_or_taken_players_are_refused(client, player_user, other_user):
    taken = PlayerFactory(name="Taken")
    other_user.player = taken
    other_user.save()
    client.force_login(player_user)
    unknown = client.post("/accounts/settings/", {"section": "claim", "claim-goated_name": "Ghost"})
    assert "No player called “Ghost”" in unknown.content.decode()
    linked = client.post("/accounts/settings/", {"section": "claim", "claim-goated_name": "Taken"})
    assert "already linked to another account" in linked.content.decode()
    assert not VerificationRequest.objects.exists()


def test_telegram_section_says_when_the_bot_is_not_configured(client, player_user, settings):
    settings.TELEGRAM_BOT_USERNAME = ""
    client.force_login(player_user)
    assert "The Telegram bot is not configured" in client.get("/accounts/settings/").content.decode()


# --- newsletter -------------------------------------------------------------------------------------------


def test_newsletter_subscribe_confirm_duplicate_and_one_click_unsubscribe(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/newsletter/", {"email": "Fan@Example.com"})
    assert not NewsletterSubscription.objects.get(email="fan@example.com").is_subscribed  # double opt-in
    (message,) = mail.outbox
    confirm = urlparse(re.search(r"https?://\S+/newsletter/confirm/\S+/", message.body).group()).path
    client.post(confirm)
    assert NewsletterSubscription.objects.get(email="fan@example.com").is_subscribed
    again = client.post("/accounts/newsletter/", {"email": "fan@example.com"}, follow=True)
    assert "check your inbox" in again.content.decode()  # the same answer for every address
    assert len(mail.outbox) == 1  # and no email to an address that is subscribed
    token = unsubscribe_token("fan@example.com", "newsletter")
    assert client.get(f"/accounts/newsletter/unsubscribe/{token}/").status_code == 200  # a confirm button only
    assert NewsletterSubscription.objects.get(email="fan@example.com").is_subscribed
    client.post(f"/accounts/newsletter/unsubscribe/{token}/")
    assert not NewsletterSubscription.objects.get(email="fan@example.com").is_subscribed
    assert client.post(f"/accounts/newsletter/unsubscribe/{token}x/").status_code == 400


def test_newsletter_bad_email_and_foreign_next_are_handled(client):
    response = client.post("/accounts/newsletter/", {"email": "nope", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert not NewsletterSubscription.objects.exists()


# --- CSRF on every form -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/password-reset/",
        "/accounts/settings/",
        "/accounts/newsletter/",
        "/accounts/logout/",
        "/accounts/verify-email/resend/",
    ],
)
def test_every_form_needs_a_csrf_token(player_user, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(player_user)
    assert client.post(url, {"email": "a@example.com"}).status_code == 403


@pytest.mark.django_db
def test_the_settings_page_reuses_a_recent_telegram_link_code_instead_of_making_one_per_visit(client, settings):
    from accounts.models import TelegramLinkToken

    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_BOT_USERNAME = "1:abc", "GoatedVIPsBot"
    client.force_login(UserFactory(username="visitor"))
    links = {re.search(r'id="telegram-link" href="([^"]+)"', client.get("/accounts/settings/").content.decode())[1]
             for _ in range(5)}  # fmt: skip
    assert len(links) == 1
    assert TelegramLinkToken.objects.count() == 1
