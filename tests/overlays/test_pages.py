"""Overlay pages and their poll (DESIGN §7): the command's path works; unknown, revoked and wrong-kind tokens are
404; no cookie is set or read, nothing is stored, the CSP allows no inline script; what each kind shows."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from core.models import AuditEntry
from overlays.models import OverlayLink
from overlays.services import overlay_link_create, overlay_link_revoke, overlay_link_rotate
from tests.realtime.servers import session_key_for

pytestmark = pytest.mark.django_db
KINDS = ["race", "leaderboard", "raffle", "ticker"]


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("overlay_link", *args, stdout=out)
    return out.getvalue().splitlines()[-1]


def island(response) -> dict:
    found = re.search(r'<script id="overlay-data" type="application/json">(.*?)</script>', response.text, re.S)
    return json.loads(found.group(1))


@pytest.mark.parametrize("kind", KINDS)
def test_the_command_prints_the_path_last_and_the_path_works(client, board, kind):
    path = command(kind, "--n", "3")
    assert re.fullmatch(rf"/overlay/[A-Za-z0-9_-]{{32}}/{kind}/", path)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert island(response)["data"]["kind"] == kind
    link = OverlayLink.objects.get()
    assert (link.kind, link.n, link.path) == (kind, 3, path)
    assert AuditEntry.objects.filter(action="overlaylink.create", target_id=str(link.pk)).exists()


def test_the_command_takes_a_raffle_and_a_period(board):
    command("raffle", "--raffle", str(board["raffle"].pk))
    command("leaderboard", "--period", "weekly")
    assert OverlayLink.objects.get(kind="raffle").raffle == board["raffle"]
    assert OverlayLink.objects.get(kind="leaderboard").period == "weekly"
    with pytest.raises(Exception, match="does not exist"):
        command("raffle", "--raffle", "999999")
    with pytest.raises(Exception, match="n"):
        command("race", "--n", "0")


def test_unknown_revoked_and_wrong_kind_tokens_are_a_plain_404(client, board):
    link = overlay_link_create("race")
    for path in (link.path, link.path + "data.json"):
        assert client.get(path).status_code == 200
    wrong = [
        "/overlay/" + "x" * 32 + "/race/",  # unknown
        f"/overlay/{link.token}/leaderboard/",  # another kind's path
        f"/overlay/{link.token}/bogus/",
        "/overlay/" + "x" * 32 + "/race/data.json",
        f"/overlay/{link.token}/ticker/data.json",
        "/overlay/" + "x" * 500 + "/race/",
    ]
    for path in wrong:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Cache-Control"] == "no-store"
        assert response.content == b"Not found.\n"  # plain: no site template (it would read the session)
    overlay_link_revoke(link.pk)
    for path in (link.path, link.path + "data.json"):
        assert client.get(path).status_code == 404


def test_rotating_moves_the_link_to_a_new_token(client, board):
    link = overlay_link_create("leaderboard")
    old = link.path
    overlay_link_revoke(link.pk)
    link = overlay_link_rotate(link.pk)  # a revoked link comes back under a new URL; the old one stays dead
    assert link.path != old
    assert client.get(old).status_code == 404
    assert client.get(link.path).status_code == 200
    entries = AuditEntry.objects.filter(target_id=str(link.pk)).values_list("action", flat=True)
    assert set(entries) == {"overlaylink.create", "overlaylink.revoke", "overlaylink.rotate"}
    assert link.token not in json.dumps(list(AuditEntry.objects.values("before", "after", "note", "target_repr")))


def test_no_cookie_is_set_or_read_even_when_the_request_carries_some(board, staff_user, settings):
    settings.STAFF_2FA = True  # a staff session without the second factor would be sent to /accounts/2fa/
    link = overlay_link_create("race")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key_for(staff_user)
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    client.cookies["messages"] = "junk"
    for path in (link.path, link.path + "data.json", "/overlay/nope/race/", f"/overlay/{link.token}/raffle/"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert "Set-Cookie" not in response.headers, path
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", ""), path
    assert response.wsgi_request.COOKIES == {}


def test_the_page_is_no_store_transparent_and_under_a_strict_csp(client, board):
    link = overlay_link_create("race")
    response = client.get(link.path)
    assert response["Cache-Control"] == "no-store"
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";") if d.strip())
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    html = response.text
    assert re.findall(r"<script(?![^>]*(?:src=|type=\"application/json\"))", html) == []  # no inline script
    assert " style=" not in html
    assert "<style" not in html
    assert 'src="/static/js/overlay.js"' in html
    assert "base.html" not in html
    assert "cookie" not in html.lower()  # no cookie notice
    css = (settings.BASE_DIR / "static/css/overlay.css").read_text()
    assert re.search(r"html, body \{[^}]*background: transparent", css)
    assert client.post(link.path).status_code == 405


def test_what_each_kind_shows(client, board):
    race = client.get(overlay_link_create("race", n=2).path + "data.json").json()
    assert race["race"]["title"] == "Monthly Race"
    assert [(r["name"], r["wagered"], r["prize"]) for r in race["race"]["rows"]] == [
        ("Alpha", "300.00", "300.00"), ("Bravo", "200.00", "200.00")]  # fmt: skip
    assert 0 < race["race"]["time_left_seconds"] <= 2 * 86400
    board_data = client.get(overlay_link_create("leaderboard", n=3, period="monthly").path + "data.json").json()
    assert [r["name"] for r in board_data["leaderboard"]["rows"]] == ["Alpha", "Bravo", "<b>Charlie</b>"]
    raffle = client.get(overlay_link_create("raffle").path + "data.json").json()
    assert [(r["name"], r["tickets"]) for r in raffle["raffle"]["rows"]] == [
        ("Bravo", 9), ("Alpha", 5), ("<b>Charlie</b>", 2)]  # fmt: skip
    ticker = client.get(overlay_link_create("ticker", theme="light", accent="#ff0066").path + "data.json").json()
    assert ticker["race"]["rows"]
    assert ticker["leaderboard"]["rows"]
    assert ticker["options"] == {"n": 10, "theme": "light", "accent": "#ff0066", "font_size": 28}


def test_feed_names_are_escaped_in_the_island(client, board):
    response = client.get(overlay_link_create("leaderboard").path)
    assert "<b>Charlie</b>" not in response.text  # json_script escapes <, > and &
    assert [r["name"] for r in island(response)["data"]["leaderboard"]["rows"]][2] == "<b>Charlie</b>"


def test_a_drawn_raffle_shows_its_winners(client, board):
    from django.utils import timezone

    from giveaways.models import Raffle, RaffleWinner

    raffle = board["raffle"]
    Raffle.objects.filter(pk=raffle.pk).update(status=Raffle.Status.DRAWN, drawn_at=timezone.now())
    bravo = board["players"][1]
    RaffleWinner.objects.create(raffle=raffle, position=1, player=bravo, uid=bravo.uid, name=bravo.name, tickets=9,
                                prize="100.00")  # fmt: skip
    data = client.get(overlay_link_create("raffle").path + "data.json").json()
    assert data["raffle"]["status"] == "drawn"
    assert data["raffle"]["winners"] == [
        {"position": 1, "uid": "bravo", "name": "Bravo", "tickets": 9, "prize": "100.00"}
    ]


def test_overlays_stay_out_of_the_page_cache():
    from goatedvips.pagecache import PATHS

    assert not PATHS.match("/overlay/abc/race/")


def test_options_are_validated(board):
    from core.errors import ServiceError

    for bad in ({"n": 26}, {"accent": "red"}, {"font_size": 5}, {"theme": "neon"}, {"period": "yearly"}):
        with pytest.raises(ServiceError):
            overlay_link_create("race", **bad)
    with pytest.raises(ServiceError):
        overlay_link_create("poster")
