"""The small things a player or an operator trips over (issue 20): wording, links, defaults, formats, icons."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from races.models import RaceProgressSample, TransformationLog, WagerRace
from tests.factories import PlayerFactory, StaffFactory, UserFactory, WagerRaceFactory

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert "max-age=86400" in response["Cache-Control"]
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert b"<svg" in body
    assert 'rel="icon"' in client.get("/").content.decode()


def test_signing_out_says_so(client):
    user = UserFactory()
    client.force_login(user)
    page = client.post("/accounts/logout/", follow=True).content.decode()
    assert "You are signed out." in page
    assert "You are signed out." not in client.get("/").content.decode()  # said once


@pytest.mark.parametrize("bot", [False, True])
def test_settings_wording_checkboxes_without_colons_and_a_matching_show_stats_help(client, settings, bot):
    settings.TELEGRAM_BOT_TOKEN = "123:abc" if bot else ""
    client.force_login(UserFactory())
    page = client.get("/accounts/settings/").content.decode()
    labels = re.findall(r'<input type="checkbox"[^>]*id="([^"]+)"[^>]*>\s*<label for="\1">([^<]*)</label>', page)
    # show_stats and the notification toggles; the Telegram one only where the site has a bot to send them
    assert len(labels) == (7 if bot else 6), labels
    assert ("Telegram notifications" in page) is bot
    assert "VIP status changes" in page
    assert not [text for _, text in labels if text.rstrip().endswith(":")], labels
    assert "Show my profile publicly" in page
    assert "Your bio, colour and site name on your public player page" in page
    # Help and errors carry the ids the inputs point at (aria-describedby).
    for target in re.findall(r'aria-describedby="([^"]+)"', page):
        for one in target.split():
            assert f'id="{one}"' in page, one


def test_marketing_starts_off_and_race_results_start_on_in_the_settings_form(client):
    client.force_login(UserFactory())
    page = client.get("/accounts/settings/").content.decode()
    assert re.search(r'<input type="checkbox" name="prefs-promotional_offers"(?![^>]*checked)[^>]*>', page)
    assert re.search(r'<input type="checkbox" name="prefs-wager_race_updates"[^>]*checked[^>]*>', page)


def test_the_faq_and_provably_fair_pages_link_where_they_send_people(client):
    assert 'href="/accounts/settings/"' in client.get("/faq/").content.decode()
    fair = client.get("/provably-fair/").content.decode()
    assert 'href="/wheel/verify/"' in fair


def test_the_current_page_is_marked_in_the_header(client):
    page = client.get("/leaderboard/").content.decode()
    assert re.search(r'<a href="/leaderboard/" aria-current="page">Leaderboard</a>', page)
    assert 'aria-current="page">Races' not in page


def test_player_admin_shows_feed_figures_as_money_and_read_only(client):
    client.force_login(StaffFactory())
    player = PlayerFactory(wager_month=Decimal("131351.96472800"))
    page = client.get(f"/admin/races/player/{player.pk}/change/").content.decode()
    assert "$131,351.96" in page
    assert "131351.96472800" not in page
    assert 'name="wager_month"' not in page  # the feed owns it: nothing to edit


def test_dashboard_says_what_the_last_sync_did_and_waits_for_two_samples_before_drawing(client):
    client.force_login(StaffFactory())
    TransformationLog.objects.create(type="info", message="Synced 10 players")
    race = WagerRaceFactory(status=WagerRace.Status.LIVE)
    RaceProgressSample.objects.create(race=race, taken_at=timezone.now(), standings=[["a", "Alpha", "1", 1]])
    page = client.get("/admin/").content.decode()
    assert '<div class="value sync-info">Succeeded</div>' in page
    assert "The chart appears after a few syncs of a live race." in page
    assert "<polyline" not in page.split('id="analytics"')[-1]
    RaceProgressSample.objects.create(
        race=race, taken_at=timezone.now() + timedelta(minutes=5), standings=[["a", "Alpha", "1", 1]]
    )
    page = client.get("/admin/").content.decode()
    assert 'class="swatch"' in page  # the legend: a swatch, the name in the text colour
    assert 'style="color:' not in page.split("Live races")[-1]


def test_dates_in_admin_are_compact_and_24_hour(client):
    client.force_login(StaffFactory())
    WagerRaceFactory(title="Date race", start_date=timezone.now().replace(year=2027, month=1, day=5, hour=14, minute=5))
    page = client.get("/admin/races/wagerrace/").content.decode()
    assert "5 Jan 2027, 14:05" in page
    assert "p.m." not in page


@pytest.mark.parametrize("path", ["/", "/leaderboard/", "/races/", "/faq/"])
def test_public_pages_revalidate_with_a_304(client, path):
    """Nothing on a visitor's page changes per request (no CSRF token: the footer links to the sign-up page), so
    the ETag holds until the content changes and a browser's revalidation is answered with a 304."""
    first, second = client.get(path), client.get(path)
    assert first.status_code == 200
    assert first["ETag"] == second["ETag"]
    assert "csrfmiddlewaretoken" not in first.content.decode()
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_newsletter_has_its_own_page_linked_from_the_footer(client):
    assert 'href="/accounts/newsletter/"' in client.get("/").content.decode()
    page = client.get("/accounts/newsletter/")
    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()
    done = client.post("/accounts/newsletter/", {"email": "fan@example.com"}, follow=True)
    assert "check your inbox" in done.content.decode()  # double opt-in: the emailed link subscribes
