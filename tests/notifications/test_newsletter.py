"""Newsletter double opt-in: the form only sends the address a signed, expiring link; opening it and pressing
Confirm subscribes. A stranger's POST never (re-)subscribes anyone, and broadcasts reach confirmed addresses only."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import timezone

from notifications.email import unsubscribe_token
from notifications.models import NewsletterSubscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribe(client, django_capture_on_commit_callbacks):
    """POST the newsletter form (the confirmation email leaves after the commit)."""

    def post(address: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/newsletter/", {"email": address}, follow=True, **extra)

    return post


def _links(address: str) -> list[str]:
    """The confirmation links mailed to `address`, oldest first (paths of this site)."""
    found = []
    for message in mail.outbox:
        if address in message.to:
            found += [urlparse(u).path for u in re.findall(r"https?://\S+/newsletter/confirm/\S+/", message.body)]
    return found


def _subscribed(address: str) -> bool:
    return NewsletterSubscription.objects.filter(email=address, is_subscribed=True).exists()


def test_an_address_that_unsubscribed_stays_unsubscribed_whoever_posts_the_form(subscribe):
    """The defect as observed: one POST by anyone re-subscribed an address that had unsubscribed."""
    NewsletterSubscription.objects.create(email="fan@example.com", is_subscribed=False, unsubscribed_at=timezone.now())
    subscribe("fan@example.com", REMOTE_ADDR="203.0.113.9")
    assert not _subscribed("fan@example.com")
    subscribe("new@example.com")
    assert not _subscribed("new@example.com")  # a new address neither, until its owner confirms


def test_a_strangers_post_does_not_resubscribe_an_address_that_unsubscribed(client, subscribe):
    subscribe("fan@example.com")
    client.post(_links("fan@example.com")[0])
    assert _subscribed("fan@example.com")
    client.post(f"/accounts/newsletter/unsubscribe/{unsubscribe_token('fan@example.com', 'newsletter')}/")
    assert not _subscribed("fan@example.com")

    mail.outbox.clear()
    NewsletterSubscription.objects.update(confirmation_sent_at=timezone.now() - timezone.timedelta(hours=1))
    stranger = subscribe("fan@example.com", REMOTE_ADDR="203.0.113.9")
    assert "check your inbox" in stranger.content.decode()
    assert not _subscribed("fan@example.com")  # stays unsubscribed: only its owner can confirm again
    assert len(_links("fan@example.com")) == 1  # the owner is asked, nothing more
    from notifications.services import newsletter_audience

    assert newsletter_audience() == []


def test_only_pressing_confirm_on_the_emailed_link_subscribes(client, subscribe):
    answer = subscribe("Fan@Example.com")
    assert "check your inbox" in answer.content.decode()
    assert not _subscribed("fan@example.com")
    (link,) = _links("fan@example.com")
    assert client.get(link).status_code == 200  # a mail scanner following the link subscribes no one
    assert not _subscribed("fan@example.com")
    assert client.post(link[:-6] + "xxxxx/").status_code == 400  # tampered
    assert not _subscribed("fan@example.com")
    done = client.post(link)
    assert "Subscribed" in done.content.decode()
    assert _subscribed("fan@example.com")
    assert NewsletterSubscription.objects.get().confirmed_at is not None


def test_the_form_answers_alike_for_every_address_and_mails_at_most_one_link_per_window(client, subscribe):
    first, again = subscribe("fan@example.com"), subscribe("fan@example.com")
    assert len(_links("fan@example.com")) == 1
    client.post(_links("fan@example.com")[0])
    subscribed = subscribe("fan@example.com")  # subscribed already: no email, and the same words
    assert len(_links("fan@example.com")) == 1
    texts = [r.content.decode() for r in (first, again, subscribed)]
    assert all("Almost done: check your inbox." in t for t in texts)
    assert not any("You are already subscribed" in t for t in texts)


def test_a_link_sent_before_an_unsubscribe_or_expired_no_longer_subscribes(client, subscribe, monkeypatch):
    subscribe("fan@example.com")
    (old_link,) = _links("fan@example.com")
    client.post(f"/accounts/newsletter/unsubscribe/{unsubscribe_token('fan@example.com', 'newsletter')}/")
    refused = client.post(old_link)
    assert refused.status_code == 400
    assert "unsubscribed after this link" in refused.content.decode()
    assert not _subscribed("fan@example.com")

    NewsletterSubscription.objects.update(confirmation_sent_at=timezone.now() - timezone.timedelta(hours=1))
    subscribe("fan@example.com")
    new_link = _links("fan@example.com")[-1]
    from notifications import newsletter

    monkeypatch.setattr(newsletter, "CONFIRM_MAX_AGE", -1)
    assert "expired" in client.post(new_link).content.decode()
    monkeypatch.setattr(newsletter, "CONFIRM_MAX_AGE", 3 * 24 * 3600)
    client.post(new_link)
    assert _subscribed("fan@example.com")
