"""The storefront's race pages (issue 32): the pool labelled, the prize table beside the standings, paged
standings that say how many there are, the "you are #N — $X to the next prize" card, the how-to-join strip with
the referral code as text, and the podium's avatars."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from core.templatetags.ui import avatar_svg
from races.services.standings import races_refresh_after_sync
from tests.factories import UserFactory
from tests.races.test_pages import live_race, players
from vip.selectors import TierTable

pytestmark = pytest.mark.django_db


def _race_with(n: int, **kwargs):
    race = live_race(prize_pool=Decimal("1000"), prize_distribution={"1": 50, "2": 30, "3": 20}, **kwargs)
    made = players(n)
    races_refresh_after_sync(timezone.now())
    return race, made


def test_the_race_page_labels_the_pool_and_puts_the_prizes_before_the_standings_in_the_page(client):
    race, _ = _race_with(5)
    html = client.get(f"/races/{race.pk}/").content.decode()
    assert '<span class="label">Prize pool</span> $1,000.00' in html
    assert '<span class="pill live">Live</span>' in html
    # The side column (prizes, then how to join, then rules) sits beside the standings: in a phone's one column
    # the stylesheet orders the prizes before them (static/css/site.css, "One column below 1024 px").
    assert html.index('id="prizes-title"') < html.index('class="race-side"') + 200
    assert html.index('class="race-layout"') < html.index('id="standings-title"') < html.index('class="race-side"')
    assert "Showing 1–5 of 5" in html


def test_standings_are_paged_by_100_and_say_how_many_there_are(client):
    race, _ = _race_with(130, min_wager=Decimal("0"))
    first = client.get(f"/races/{race.pk}/").content.decode()
    assert "Showing 1–100 of 130" in first
    assert 'rel="next" href="?page=2"' in first
    assert first.count("<tr><td>") - first.count("<tr><td>#") == 100  # standings rows (prize rows start with '#')
    second = client.get(f"/races/{race.pk}/?page=2").content.decode()
    assert "Showing 101–130 of 130" in second
    # Only the first page is live (its rows are the API's top 100); the podium stays the top three on every page.
    assert "data-live-race" in first
    assert "data-live-race" not in second
    assert second.count('class="step step-') == 3
    # Past the last page, or a mangled number: the first page, never an error.
    for page in ("99", "x", "-1", "0"):
        assert "Showing 1–100 of 130" in client.get(f"/races/{race.pk}/?page={page}").content.decode()


def test_a_linked_player_sees_their_rank_and_what_it_takes_to_reach_a_prize(client):
    race, made = _race_with(6, min_wager=Decimal("0"))
    # players(6): all-time wagers 20,000..120,000, all of it inside this race (no earlier baseline): rank 6 has
    # $20,000 and rank 3, the last paying one, $80,000.
    user = UserFactory(player=made[0], email_verified=True)
    client.force_login(user)
    html = client.get(f"/races/{race.pk}/").content.decode()
    card = re.search(r'<div class="you-card" id="you-card">(.*?)</div>', html, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", "", card).split())
    assert "You are #6 of 6" in text
    assert "$60,000.00 to the next prize (#3, $200.00)" in text
    # The join strip is for people who have not linked a player yet.
    assert "How to join" not in html
    # The home page shows the same card (the race is the current one).
    home = client.get("/").content.decode()
    assert "You are #6 of 6" in " ".join(re.sub(r"<[^>]+>", "", home).split())


def test_the_leader_is_told_so_and_a_player_under_the_minimum_what_qualifies(client):
    race, made = _race_with(3, min_wager=Decimal("50000"))  # wagers 20,000 / 40,000 / 60,000
    client.force_login(UserFactory(player=made[2]))
    assert "You lead this race." in client.get(f"/races/{race.pk}/").content.decode()
    client.force_login(UserFactory(player=made[0]))
    assert (
        "Wager at least $50,000.00 in this race to qualify for a prize."
        in client.get(f"/races/{race.pk}/").content.decode()
    )


@override_settings(REFERRAL_URL="https://www.goated.com/r/STREAMCODE?x=1")
def test_visitors_see_the_referral_code_as_text_with_a_copy_button_and_both_joins_named(client):
    race, _ = _race_with(2)
    for path in ("/", f"/races/{race.pk}/", "/races/"):
        html = client.get(path).content.decode()
        assert '<code id="ref-code-' in html, path
        assert ">STREAMCODE</code>" in html, path
        assert 'data-copy="STREAMCODE"' in html, path
        assert "Sign up on Goated with our code" in html, path
        assert "(free)" in html, path


def test_avatars_are_made_from_the_name_and_framed_in_the_tier_colour():
    one, again, other = avatar_svg("MegaViking365", "#FFD700"), avatar_svg("MegaViking365", "#FFD700"), avatar_svg("x")
    assert one == again
    assert one != other
    assert ">MV</text>" in one
    assert 'style="--tier: #FFD700"' in one
    assert 'aria-hidden="true"' in one
    assert ">SC</text>" in avatar_svg("<script>")  # initials are letters and digits only
    assert "<script" not in avatar_svg('"><script>', '"><script>')  # the colour is escaped too
    assert ">?</text>" in avatar_svg("***")


def test_the_podium_frames_each_player_in_their_vip_tiers_colour_read_with_the_standings(client):
    race, made = _race_with(5)
    html = client.get(f"/races/{race.pk}/").content.decode()
    start = html.index('class="podium"')
    podium = html[start : html.index("</section>", start)]
    table = TierTable()
    top = sorted(made, key=lambda p: p.wager_all_time, reverse=True)[:3]
    colors = [table.tier_for(p.wager_all_time).badge_color for p in top]
    assert all(colors)
    assert re.findall(r'style="--tier: ([^"]+)"', podium) == colors  # first, second, third, in that order


# The podiums as the templates drew them before they were drawn in Python (races/templatetags/players.py).
PODIUM_TEMPLATE = (
    "{% load players ui %}{% for s, color in podium %}\n"
    '  <div class="step step-{{ s.rank }}">{% avatar s.name color 56 %}'
    '<span class="place">#{{ s.rank }}</span>\n'
    '    <a class="name" data-place="#{{ s.rank }}" href="{{ s.uid|player_url }}">{{ s.name }}</a>\n'
    '    <span class="figure wagered"><span class="figure-label">Wagered</span>{{ s.wagered|money }}</span>\n'
    '    <strong class="figure prize">{% if s.prize %}<span class="figure-label">Prize</span>{{ s.prize|money }}'
    "{% endif %}</strong></div>\n{% endfor %}"
)
MINI_PODIUM_TEMPLATE = (
    "{% load players ui %}{% for s, color in podium %}\n"
    '    <li>{% avatar s.name color 40 %}<span class="place">#{{ s.rank }}</span> '
    '<a data-place="#{{ s.rank }}" href="{{ s.uid|player_url }}">{{ s.name }}</a> '
    '<span class="muted">{{ s.wagered|money }}</span></li>{% endfor %}'
)


def test_the_podiums_drawn_in_python_are_the_templates_markup_with_every_value_escaped():
    from django.template import Context, Template

    from races.selectors.races import StandingRow
    from races.templatetags.players import mini_podium, podium_steps

    podium = [
        StandingRow(1, "u<1>", '<script>alert("x")</script>', Decimal("12345.678"), Decimal("500"), True),
        StandingRow(2, "u2", "Émilie 🐐", Decimal("0.5"), None, True),
        StandingRow(3, "u3", "", Decimal("0"), Decimal("0"), False),
    ]
    colors = {"u<1>": '#FFD700"><b>', "u2": "#C0C0C0"}

    def drawn(source: str) -> str:
        pairs = [(s, colors.get(s.uid, "")) for s in podium]
        return Template(source).render(Context({"podium": pairs}))

    def squeeze(html: str) -> str:
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()

    assert squeeze(podium_steps(podium, colors)) == squeeze(drawn(PODIUM_TEMPLATE))
    assert squeeze(mini_podium(podium, colors)) == squeeze(drawn(MINI_PODIUM_TEMPLATE))
    assert "<script>" not in podium_steps(podium, colors)
    assert "<b>" not in mini_podium(podium, colors)


def test_times_of_day_are_24_hour_utc():
    from core.templatetags.ui import utc_time

    assert utc_time("2026-12-07T20:15:35.757556Z") == "20:15:35 UTC"
    assert utc_time("2026-12-07T21:15:35+01:00") == "20:15:35 UTC"
    assert utc_time("not a time") == ""
