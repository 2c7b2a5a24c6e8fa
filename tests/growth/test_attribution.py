"""Attribution of new players to the campaign their account clicked (growth.attribution)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import VerificationRequest
from accounts.services import verification_approve
from growth.attribution import COOKIE
from growth.models import CampaignTouch, PlayerAttribution, ReferralClickDay
from growth.services import referral_clicks_flush
from tests.factories import PlayerFactory, StaffFactory, UserFactory, VerificationRequestFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def click(client, slug: str):
    """A click by a visitor who accepted analytics cookies (attribution waits for that consent)."""
    client.cookies["gv_consent"] = "granted"
    return client.get(f"/go/{slug}/", HTTP_USER_AGENT=BROWSER)


@pytest.mark.django_db
@pytest.mark.parametrize("answer", [None, "denied"])
def test_without_analytics_consent_a_click_is_counted_but_not_remembered(client, answer):
    if answer:
        client.cookies["gv_consent"] = answer
    assert "gv_campaign" not in client.get("/go/stream/", HTTP_USER_AGENT=BROWSER).cookies
    client.force_login(UserFactory())
    assert client.get("/go/stream/", HTTP_USER_AGENT=BROWSER).status_code == 302
    assert not CampaignTouch.objects.exists()
    referral_clicks_flush()
    assert sum(ReferralClickDay.objects.values_list("clicks", flat=True)) == 2  # counted all the same


def approve(user, player):
    request = VerificationRequestFactory(user=user, player=player, goated_name=player.name)
    return verification_approve(request.pk, actor=StaffFactory())


@pytest.mark.django_db
def test_an_anonymous_click_is_remembered_at_sign_in_and_credits_the_player_linked_later(client, password):
    user = UserFactory()
    assert click(client, "stream").cookies[COOKIE]["httponly"]
    assert client.post("/accounts/login/", {"username": user.username, "password": password}).status_code == 302
    touch = CampaignTouch.objects.get(user=user)
    assert touch.campaign == "stream"
    player = PlayerFactory(first_seen=timezone.now() + timedelta(hours=1))  # appears in the feed after the click
    approve(user, player)
    credit = PlayerAttribution.objects.get(player=player)
    assert (credit.campaign, credit.clicked_at) == ("stream", touch.clicked_at)


@pytest.mark.django_db
def test_a_signed_in_click_is_kept_in_the_cookie_and_becomes_the_accounts_when_it_asks_to_link_a_player(client):
    user = UserFactory()
    client.force_login(user)
    assert click(client, "telegram-post").cookies[COOKIE]["httponly"]
    click(client, "stream")  # the last click wins
    assert not CampaignTouch.objects.exists()  # a click never writes to the database
    player = PlayerFactory(name="LinkMe", first_seen=timezone.now() + timedelta(hours=1))
    answer = client.post("/accounts/settings/", {"section": "claim", "claim-goated_name": player.name})
    assert answer.status_code == 302
    assert CampaignTouch.objects.get(user=user).campaign == "stream"
    claim = VerificationRequest.objects.get(user=user)  # the request the form made, approved by staff
    verification_approve(claim.pk, actor=StaffFactory())
    assert PlayerAttribution.objects.get(player=player).campaign == "stream"


@pytest.mark.django_db
def test_a_player_already_in_the_feed_before_the_click_is_not_credited(client, password):
    user = UserFactory()
    player = PlayerFactory(first_seen=timezone.now() - timedelta(days=3))
    click(client, "stream")
    client.post("/accounts/login/", {"username": user.username, "password": password})
    approve(user, player)
    assert not PlayerAttribution.objects.exists()


@pytest.mark.django_db
def test_an_account_that_holds_a_player_is_credited_when_its_click_arrives_later(client, password):
    # Click (cookie), casino sign-up, the player appears, staff approve; the account signs in with the cookie
    # only afterwards: the credit is made then.
    click(client, "stream")
    user = UserFactory()
    approve(user, PlayerFactory(first_seen=timezone.now() + timedelta(minutes=5)))
    assert not PlayerAttribution.objects.exists()
    client.post("/accounts/login/", {"username": user.username, "password": password})
    assert PlayerAttribution.objects.get().campaign == "stream"


@pytest.mark.django_db
def test_an_approval_without_a_click_credits_nothing_and_a_credit_is_never_moved(client):
    user, other = UserFactory(), UserFactory()
    player = PlayerFactory(first_seen=timezone.now() + timedelta(hours=1))
    approve(user, player)
    assert not PlayerAttribution.objects.exists()
    credited = PlayerFactory(first_seen=timezone.now() + timedelta(hours=1))
    PlayerAttribution.objects.create(player=credited, campaign="first", clicked_at=timezone.now())
    client.force_login(other)
    click(client, "second")
    approve(other, credited)
    assert PlayerAttribution.objects.get(player=credited).campaign == "first"


@pytest.mark.django_db
def test_a_forged_or_unsigned_cookie_is_ignored(client, password):
    user = UserFactory()
    client.cookies[COOKIE] = "stream|1700000000"
    client.post("/accounts/login/", {"username": user.username, "password": password})
    assert not CampaignTouch.objects.exists()


@pytest.mark.django_db
def test_a_crawler_gets_no_cookie(client):
    answer = client.get("/go/stream/", HTTP_USER_AGENT="TelegramBot (like TwitterBot)")
    assert answer.status_code == 302
    assert COOKIE not in answer.cookies
