"""Public race pages: leaderboard, races, player profiles. Status codes, content, constant query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.features import features_cache_clear
from experiments.models import Slot
from experiments.selectors import slot_forget
from notifications.selectors import unread_count_forget
from races.feed.ranks import player_ranks_recompute
from races.models import RaceResult, WagerRace
from races.services.lifecycle import race_finalize
from races.services.standings import races_refresh_after_sync
from tests.factories import PlayerFactory, UserFactory, WagerRaceFactory
from vip.selectors import tiers_cache_clear

pytestmark = pytest.mark.django_db


def players(n: int, start: int = 0):
    made = [
        PlayerFactory(
            name=f"Goat{start + i}",
            wager_today=Decimal(i + 1),
            wager_week=Decimal(10 * (i + 1)),
            wager_month=Decimal(100 * (i + 1)),
            wager_all_time=Decimal(20_000 * (i + 1)),
        )
        for i in range(n)
    ]
    player_ranks_recompute()
    return made


def live_race(**kwargs) -> WagerRace:
    now = timezone.now()
    defaults = {
        "status": WagerRace.Status.LIVE,
        "start_date": now - timedelta(days=3),
        "end_date": now + timedelta(days=3),
        "went_live_at": now - timedelta(days=3),
        "prize_distribution": {"1": 50, "2": 30, "3": 20},
        "min_wager": Decimal("150"),
    }
    return WagerRaceFactory(**{**defaults, **kwargs})


def finish(race: WagerRace) -> None:
    """The race ended a minute ago; finalize it."""
    WagerRace.objects.filter(pk=race.pk).update(end_date=timezone.now() - timedelta(minutes=1))
    assert race_finalize(race.pk) is not None


def queries(client, url: str) -> int:
    features_cache_clear()  # every measurement starts with the feature switches cold (one query)
    tiers_cache_clear()  # and the tier ladder (one query)
    slot_forget(Slot.HOME_HERO)  # and the home hero's experiment plan (two queries; docs/experiments.md)
    if user_id := client.session.get("_auth_user_id"):
        unread_count_forget(int(user_id))  # and the signed-in user's unread count (one query)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# --- leaderboard ------------------------------------------------------------------------------------------


def test_leaderboard_page_lists_ranked_players_with_tier_badges(client):
    players(3)
    page = client.get("/leaderboard/?period=all_time").content.decode()
    assert page.index("Goat2") < page.index("Goat1") < page.index("Goat0")
    assert 'class="tier"' in page
    assert "Silver" in page
    assert 'data-live-board data-period="all_time"' in page


def test_leaderboard_tabs_cover_every_period(client):
    players(2)
    for period in ("today", "weekly", "monthly", "all_time"):
        response = client.get("/leaderboard/", {"period": period})
        assert response.status_code == 200
        assert f'href="?period={period}" class="active"' in response.content.decode()


def test_leaderboard_search_keeps_global_ranks(client):
    players(12)
    page = client.get("/leaderboard/", {"period": "monthly", "q": "Goat1"}).content.decode()
    # Goat11 has the most this month: global rank 1; Goat1 is 11th.
    assert "<td>1</td><td><a href=" in page
    assert "Goat11" in page
    assert "<td>11</td>" in page
    assert "Goat5" not in page
    assert "data-live-board" not in page  # a filtered view is not replaced by live data


def test_leaderboard_search_with_no_match_says_so(client):
    players(2)
    assert "No ranked player matches" in client.get("/leaderboard/", {"q": "Nobody"}).content.decode()


def test_leaderboard_empty_state_before_the_first_sync(client):
    assert "Nobody has wagered in this period yet" in client.get("/leaderboard/").content.decode()


def test_leaderboard_unknown_period_is_a_400_page_listing_the_choices(client):
    response = client.get("/leaderboard/", {"period": "<script>"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "today, weekly, monthly, all_time" in body
    assert "<script>" not in body


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999"])
def test_leaderboard_bad_page_numbers_fall_back_to_the_first_page(client, page):
    players(2)
    assert client.get("/leaderboard/", {"page": page}).status_code == 200


def test_leaderboard_pages_past_the_end_go_back_to_the_first(client):
    players(2)
    response = client.get("/leaderboard/", {"page": "7", "period": "weekly"})
    assert response.status_code == 302
    assert response["Location"].endswith("?period=weekly")


def test_leaderboard_search_pages_count_every_match_and_past_the_end_go_back_to_the_first(client):
    players(60)
    first = client.get("/leaderboard/", {"period": "all_time", "q": "goat"}).content.decode()
    assert "60 players matching" in first
    assert "Page 1 of 2" in first
    second = client.get("/leaderboard/", {"period": "all_time", "q": "goat", "page": "2"}).content.decode()
    assert "60 players matching" in second
    assert "<td>51</td>" in second
    assert "<td>50</td>" not in second
    past = client.get("/leaderboard/", {"period": "all_time", "q": "goat & co", "page": "3"})
    assert past.status_code == 302
    assert past["Location"] == "/leaderboard/?period=all_time&q=goat+%26+co"
    assert "0 players matching" in client.get(past["Location"]).content.decode()


def test_leaderboard_pagination(client):
    players(60)
    first = client.get("/leaderboard/", {"period": "all_time"}).content.decode()
    second = client.get("/leaderboard/", {"period": "all_time", "page": "2"}).content.decode()
    assert "Page 1 of 2" in first
    assert "Goat59" in first
    assert "Goat9<" not in first
    assert "<td>51</td>" in second
    assert "Goat0" in second


def test_leaderboard_page_query_count_does_not_grow_with_players(client):
    players(3)
    small = queries(client, "/leaderboard/?period=weekly")
    players(80, start=3)
    from races.feed.leaderboard import leaderboard_cache_clear

    leaderboard_cache_clear()
    assert queries(client, "/leaderboard/?period=weekly") == small
    assert queries(client, "/leaderboard/?period=weekly&q=Goat") == queries(client, "/leaderboard/?period=weekly&q=Go")


# --- races ------------------------------------------------------------------------------------------------


def test_race_detail_shows_podium_prizes_countdown_and_min_wager(client):
    race = live_race(prize_pool=Decimal("1000"))
    players(5)
    races_refresh_after_sync(timezone.now())
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert 'class="podium"' in page
    assert "data-countdown" in page
    assert "$500" in page
    assert "$300" in page
    assert "Wager at least $150" in page
    assert f'data-live-race="{race.pk}"' in page
    assert f'data-progress-chart="/api/v1/races/{race.pk}/progress/"' in page


def test_a_live_race_without_standings_keeps_a_hidden_table_and_podium_for_the_live_updates(client):
    race = live_race()
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert "Nobody has wagered in this race yet." in page
    assert f'<div class="table-wrap" hidden><table class="board standings" data-live-race="{race.pk}">' in page
    assert '<section class="podium" aria-label="Top three" hidden>' in page


def test_upcoming_race_page_counts_down_to_the_start(client):
    race = WagerRaceFactory(start_date=timezone.now() + timedelta(days=2), end_date=timezone.now() + timedelta(days=9))
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert "Starts in" in page
    assert "Standings appear once the race starts" in page
    assert "data-live-race" not in page
    assert 'class="podium"' not in page


def test_completed_race_page_shows_final_standings(client):
    race = live_race()
    players(4)
    races_refresh_after_sync(timezone.now())
    finish(race)
    page = client.get(f"/races/{race.pk}/").content.decode()
    assert "Final standings" in page
    assert "Goat3" in page
    assert "data-live-race" not in page
    index = client.get("/races/").content.decode()
    assert race.title in index
    assert "Archive" in index
    # The archive's player count is the number of final results (kept on the race at finalization).
    row = index[index.index(race.title) : index.index("</tr>", index.index(race.title))]
    assert '<td class="num">4</td>' in row


def test_unknown_race_is_a_404_page(client):
    response = client.get("/races/987654/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_current_race_redirects_to_the_live_race_or_the_race_list(client):
    assert client.get("/races/current/")["Location"] == "/races/"
    race = live_race()
    assert client.get("/races/current/")["Location"] == f"/races/{race.pk}/"
    assert client.get("/races/current/?type=bogus")["Location"] == f"/races/{race.pk}/"


def test_race_index_empty_states(client):
    page = client.get("/races/").content.decode()
    assert "No race is live right now" in page
    assert "No race has finished yet" in page


def test_race_pages_query_counts_do_not_grow_with_rows(client):
    race = live_race()
    players(3)
    races_refresh_after_sync(timezone.now())
    WagerRaceFactory(status=WagerRace.Status.COMPLETED, title="Old")
    few = queries(client, f"/races/{race.pk}/")
    index_few = queries(client, "/races/")
    players(60, start=3)
    races_refresh_after_sync(timezone.now())
    for i in range(5):
        WagerRaceFactory(status=WagerRace.Status.COMPLETED, title=f"Old {i}")
    assert queries(client, f"/races/{race.pk}/") == few
    assert queries(client, "/races/") == index_few


# --- player profiles --------------------------------------------------------------------------------------


def test_player_profile_shows_wagers_ranks_tier_and_progress(client):
    made = players(3)
    page = client.get(f"/players/{made[0].uid}/").content.decode()
    assert "Goat0" in page
    assert "#3" in page
    assert "Bronze" in page
    assert "more all-time wager to reach" in page
    assert "Silver" in page


def test_player_profile_shows_the_linked_user_bio_only_when_they_allow_it(client):
    player = players(1)[0]
    user = UserFactory(player=player, bio="Whale of the north", show_stats=False, email="hidden@example.com")
    page = client.get(f"/players/{player.uid}/").content.decode()
    assert "Whale of the north" not in page
    assert "hidden@example.com" not in page
    user.show_stats = True
    user.save()
    page = client.get(f"/players/{player.uid}/").content.decode()
    assert "Whale of the north" in page
    assert "hidden@example.com" not in page


def test_player_profile_lists_race_history(client):
    race = live_race()
    made = players(2)
    races_refresh_after_sync(timezone.now())
    finish(race)
    assert RaceResult.objects.filter(player=made[1]).exists()
    page = client.get(f"/players/{made[1].uid}/").content.decode()
    assert race.title in page


def test_unknown_player_is_a_404(client):
    assert client.get("/players/doesNotExist123/").status_code == 404


def test_player_profile_query_count_is_constant(client):
    made = players(2)
    few = queries(client, f"/players/{made[0].uid}/")
    for _ in range(4):
        race = live_race()
        races_refresh_after_sync(timezone.now())
        finish(race)
    assert queries(client, f"/players/{made[0].uid}/") == few


# --- home and static pages --------------------------------------------------------------------------------


def test_home_shows_race_hero_mvps_and_referral_link(client, settings):
    settings.REFERRAL_URL = "https://goated.example/r/TEST"
    race = live_race(title="November Monthly Race")
    players(4)
    races_refresh_after_sync(timezone.now())
    page = client.get("/").content.decode()
    assert "November Monthly Race" in page
    assert 'class="mini-podium"' in page
    assert page.count('class="card"') == 3
    assert "Goat3" in page
    assert 'href="/go/site-hero/"' in page  # to REFERRAL_URL through the click counter
    assert f'href="/races/{race.pk}/"' in page


def test_home_query_count_is_constant(client):
    live_race()
    players(3)
    races_refresh_after_sync(timezone.now())
    few = queries(client, "/")
    players(50, start=3)
    races_refresh_after_sync(timezone.now())
    from races.feed.leaderboard import leaderboard_cache_clear

    leaderboard_cache_clear()
    assert queries(client, "/") == few


@pytest.mark.parametrize("slug", ["how-it-works", "faq", "provably-fair", "terms", "privacy"])
def test_static_pages_render_with_their_own_titles(client, slug):
    response = client.get(f"/{slug}/")
    assert response.status_code == 200
    assert b"<title>" in response.content
    assert b"GoatedVIPs</title>" in response.content


def test_pages_show_sign_in_state(client, player_user):
    assert "Sign in" in client.get("/").content.decode()
    client.force_login(player_user)
    page = client.get("/").content.decode()
    assert "Sign out" in page
    assert player_user.username in page


# --- rows drawn in Python (races/templatetags/players.py) ---------------------------------------------------

_BOARD_TEMPLATE = (
    "{% load players %}{% for r in rows %}"
    '<tr data-uid="{{ r.uid }}" data-rank="{{ r.rank }}" data-wagered="{{ r.wagered }}"><td>{{ r.rank }}</td>'
    "<td><a href=\"{% url 'races:player' r.uid %}\">{{ r.name }}</a></td><td>{% if r.tier %}"
    '<span class="tier" style="--tier: {% for n, c in colors.items %}{% if n == r.tier %}{{ c }}{% endif %}'
    '{% endfor %}">{{ r.tier }}</span>{% endif %}</td><td class="num">{{ r.wagered|money }}</td></tr>\n{% endfor %}'
)
_STANDINGS_TEMPLATE = (
    "{% for s in rows %}<tr><td>{{ s.rank }}</td><td><a href=\"{% url 'races:player' s.uid %}\">{{ s.name }}</a>"
    '{% if not s.prize_eligible %} <small class="muted" title="Below the minimum wager">below min.</small>'
    '{% endif %}</td><td class="num">{{ s.wagered|money }}</td><td class="num">{% if s.prize %}{{ s.prize|money }}'
    "{% else %}–{% endif %}</td></tr>\n{% endfor %}"
)
_AWKWARD = ["<b>\"Goat\" & 'co'</b>", "Émilie 🐐", "{{ not a tag }}", "a\\b"]


def test_leaderboard_rows_drawn_in_python_match_the_template_markup():
    from django.template import Context, Template

    from races.templatetags.players import board_rows

    rows = [
        {"rank": i + 1, "uid": f"u-{i} x&y", "name": name, "wagered": f"{1234567.891 / (i + 1):.2f}",
         "tier": [None, "Gold", "Unknown", "Bronze"][i]}
        for i, name in enumerate(_AWKWARD)
    ]  # fmt: skip
    colors = {"Gold": "#FFD700", "Bronze": "#CD7F32"}
    expected = Template(_BOARD_TEMPLATE).render(Context({"rows": rows, "colors": colors}))
    drawn = board_rows(rows, colors)
    assert drawn == expected
    assert "&lt;b&gt;&quot;Goat&quot; &amp; &#x27;co&#x27;&lt;/b&gt;" in drawn
    assert "<b>" not in drawn
    assert board_rows([], colors) == ""


def test_race_standing_rows_drawn_in_python_match_the_template_markup():
    from django.template import Context, Template

    from races.selectors.races import StandingRow
    from races.templatetags.players import standing_rows

    rows = [
        StandingRow(i + 1, f"u{i}", name, Decimal("1000.129") / (i + 1), prize, eligible)
        for i, (name, prize, eligible) in enumerate(
            zip(
                _AWKWARD, [Decimal("500"), None, Decimal("0"), Decimal("12.5")], [True, False, True, False], strict=True
            )
        )
    ]
    expected = Template(_STANDINGS_TEMPLATE).render(Context({"rows": rows}))
    assert standing_rows(rows) == expected
    assert "below min." in expected
    assert "–" in expected


def test_player_links_follow_the_script_prefix():
    from django.urls import reverse, set_script_prefix

    from races.templatetags.players import player_url

    try:
        set_script_prefix("/site/")
        assert player_url("u 1") == reverse("races:player", args=["u 1"]) == "/site/players/u%201/"
    finally:
        set_script_prefix("/")
    assert player_url("u 1") == "/players/u%201/"


_COUNTDOWN_TEMPLATE = (  # what includes/countdown.html drew before the tag
    '<time class="countdown" data-countdown="{{ until|date:\'c\' }}" datetime="{{ until|date:\'c\' }}">'
    '{{ until|date:"j M Y, H:i" }} UTC</time>'
)


@pytest.mark.parametrize(
    "until",
    [
        datetime(2026, 12, 5, 9, 3, tzinfo=UTC),
        datetime(2026, 1, 31, 23, 59, 59, 123456, tzinfo=UTC),
        datetime(2027, 6, 1, 0, 0, tzinfo=timezone.get_fixed_timezone(120)),  # shown in UTC like the filter
        None,
    ],
)
def test_the_countdown_tag_draws_what_the_include_drew(until):
    from django.template import Context, Template

    from races.templatetags.countdown import countdown

    assert countdown(until) == Template(_COUNTDOWN_TEMPLATE).render(Context({"until": until}))
