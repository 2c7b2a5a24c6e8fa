"""The consent, cookie and exposure rules over HTTP (docs/experiments.md): what each visitor is shown, what is
set, and what is logged."""

from __future__ import annotations

import re

import pytest

from experiments.models import Conversion, Exposure, Goal
from experiments.web import VISITOR_COOKIE, visitor_hash
from overlays.models import OverlayLink
from tests.experiments.conftest import BOLD_BUTTON, BOLD_HEADLINE, CONTROL_BUTTON, consenting, visitor_in

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def shows_control(response) -> bool:
    text = response.content.decode()
    return CONTROL_BUTTON in text and BOLD_HEADLINE not in text and BOLD_BUTTON not in text


def shows_bold(response) -> bool:
    text = response.content.decode()
    return BOLD_HEADLINE in text and BOLD_BUTTON in text


@pytest.mark.parametrize("answer", [None, "denied", "maybe"])
def test_without_consent_the_control_is_shown_and_nothing_is_set_or_logged(client, experiment, answer):
    if answer:
        consenting(client, answer=answer)
    response = client.get("/")
    assert response.status_code == 200
    assert shows_control(response)
    assert VISITOR_COOKIE not in response.cookies
    assert Exposure.objects.count() == 0


def test_a_consenting_visitor_gets_a_signed_cookie_and_is_exposed_once(client, experiment):
    consenting(client)
    first = client.get("/")
    cookie = first.cookies[VISITOR_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 180 * 24 * 3600
    assert "private" in first["Cache-Control"]
    assert "Cookie" in first["Vary"]
    again = client.get("/")
    assert VISITOR_COOKIE not in again.cookies  # kept, not set again
    assert again.content == first.content  # sticky
    exposure = Exposure.objects.get()
    assert exposure.variant.key in ("control", "bold")
    assert (exposure.variant.key == "bold") == shows_bold(first)


@pytest.mark.parametrize("arm", ["control", "bold"])
def test_the_variant_follows_the_visitor_id_and_the_experiment_key(client, experiment, arm):
    vid = visitor_in(arm)
    response = consenting(client, vid).get("/")
    assert shows_bold(response) if arm == "bold" else shows_control(response)
    assert VISITOR_COOKIE not in response.cookies
    assert Exposure.objects.get().visitor == visitor_hash(vid)
    assert Exposure.objects.get().variant.key == arm


def test_a_forged_or_broken_visitor_cookie_is_replaced_never_trusted(client, experiment):
    consenting(client)
    client.cookies[VISITOR_COOKIE] = "visitor000000000000001:forged-signature"
    response = client.get("/")
    assert response.status_code == 200
    assert response.cookies[VISITOR_COOKIE].value != "visitor000000000000001:forged-signature"
    assert Exposure.objects.exclude(visitor=visitor_hash("visitor000000000000001")).count() == 1


def test_withdrawn_consent_deletes_the_visitor_cookie_and_shows_the_control(client, experiment):
    response = consenting(client, visitor_in("bold"), answer="denied").get("/")
    assert shows_control(response)
    assert response.cookies[VISITOR_COOKIE]["max-age"] == 0
    assert Exposure.objects.count() == 0


def test_a_referral_click_converts_an_exposed_consenting_visitor_once(client, experiment):
    consenting(client, visitor_in("bold")).get("/")
    assert client.get("/go/site-hero/", HTTP_USER_AGENT=BROWSER).status_code == 302
    assert client.get("/go/site-hero/", HTTP_USER_AGENT=BROWSER).status_code == 302
    conversion = Conversion.objects.get()
    assert (conversion.variant.key, conversion.goal) == ("bold", Goal.REFERRAL_CLICK)


def test_a_click_without_consent_or_exposure_converts_nothing(client, experiment):
    client.get("/")
    client.get("/go/site-hero/", HTTP_USER_AGENT=BROWSER)
    consenting(client, visitor_in("control")).get("/go/", HTTP_USER_AGENT=BROWSER)  # consented, never shown the slot
    assert Conversion.objects.count() == 0


def test_the_api_and_overlays_never_set_the_visitor_cookie(client, experiment):
    consenting(client)
    api = client.get("/api/v1/leaderboard/")
    assert api.status_code == 200
    assert VISITOR_COOKIE not in api.cookies
    link = OverlayLink.objects.create(kind="leaderboard")
    overlay = client.get(link.url)
    assert overlay.status_code == 200
    assert not overlay.cookies
    assert b"cookie-notice" not in overlay.content
    assert b"consent.js" not in overlay.content
    assert Exposure.objects.count() == 0


def test_the_cookie_notice_is_on_every_page_hidden_until_its_script_asks(client):
    page = client.get("/races/").content.decode()
    notice = re.search(r'<section class="cookie-notice"[^>]*>', page).group(0)
    assert "hidden" in notice
    assert 'aria-labelledby="cookie-notice-title"' in notice
    assert '<h2 id="cookie-notice-title">' in page
    assert '<button type="button" class="cta" data-consent="granted">Accept analytics cookies</button>' in page
    assert 'data-consent="denied">Necessary cookies only</button>' in page
    assert "data-consent-reopen hidden>Cookie settings</button>" in page
    assert re.search(r'<script src="[^"]*js/consent\.js" defer></script>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script (CSP: script-src 'self')


def test_nothing_stored_is_an_address_or_a_user_agent(client, experiment):
    consenting(client, visitor_in("bold")).get("/", REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="GoatBrowser/9")
    client.get("/go/", REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="GoatBrowser/9")
    for model in (Exposure, Conversion):
        names = {field.name for field in model._meta.get_fields()}
        assert not {n for n in names if re.search(r"ip|addr|agent|ua\b", n)}, names
        for row in model.objects.values():
            text = " ".join(str(value) for value in row.values())
            assert "198.51.100.23" not in text
            assert "GoatBrowser" not in text
    assert Exposure.objects.count() == Conversion.objects.count() == 1
