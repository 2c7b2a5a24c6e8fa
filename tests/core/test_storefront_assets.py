"""What a page costs to load and what it must never show (issue 32):
- the CSS and JS each public page loads stay under 60 kB compressed (gzip -9 of the files it links, summed);
- no placeholder of the demo history ("Hist week", "HIST-WELCOME", "hist-0054", in any case) on any page of a
  freshly seeded site — the public pages, a generated player's pages, and the back office lists.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from accounts.models import User
from goatedvips.history import history_generate
from races.models import WagerRace
from support.models import SupportTicket

pytestmark = pytest.mark.django_db

BUDGET = 60_000  # bytes, compressed
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="/static/([^"?]+)')
PLACEHOLDER = re.compile(r"hist[-_ ]?(week|welcome|\d)|history: ", re.IGNORECASE)


def _assets_of(html: str) -> list[Path]:
    return [Path(finders.find(name)) for name in ASSET.findall(html)]


def _weight(paths: list[Path]) -> int:
    return sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in paths)


@pytest.fixture
def site():
    call_command("seed_demo", stdout=io.StringIO())
    history_generate(30)
    return WagerRace.objects.filter(status=WagerRace.Status.LIVE).first()


def _public_pages(race) -> list[str]:
    return ["/", "/leaderboard/", "/races/", f"/races/{race.pk}/", "/raffles/", "/vip/", "/how-it-works/", "/faq/",
            "/provably-fair/", "/terms/", "/privacy/", "/accounts/login/", "/accounts/register/"]  # fmt: skip


def test_every_public_page_loads_under_60_kb_of_css_and_js_compressed(client, site):
    demo = User.objects.get(username="demo")
    weights = {}
    for path in _public_pages(site):
        html = client.get(path).content.decode()
        assets = _assets_of(html)
        assert any(p.suffix == ".css" for p in assets), path
        weights[path] = _weight(assets)
    client.force_login(demo)
    for path in ("/", f"/races/{site.pk}/", "/bonus-codes/", "/wheel/", "/support/", "/accounts/settings/"):
        weights[f"{path} (signed in)"] = _weight(_assets_of(client.get(path).content.decode()))
    assert {p: w for p, w in weights.items() if w > BUDGET} == {}, weights


def test_no_page_of_a_fresh_demo_shows_a_history_placeholder(client, admin_client, site):
    generated = User.objects.filter(email__endswith="@players.goatedvips.example").order_by("pk").first()
    assert generated is not None
    assert not PLACEHOLDER.search(generated.username)
    pages = [*_public_pages(site), *(f"/races/{r.pk}/" for r in WagerRace.objects.all())]
    seen = {path: client.get(path).content.decode() for path in pages}
    client.force_login(generated)
    ticket = SupportTicket.objects.filter(user=generated).first()
    for path in ("/", "/support/", "/bonus-codes/", "/wheel/", *([f"/support/{ticket.pk}/"] if ticket else [])):
        seen[f"{path} as {generated.username}"] = client.get(path).content.decode()
    for path in ("/admin/", "/admin/support/supportticket/?status__exact=all", "/admin/payouts/payout/?all=",
                 "/admin/vip/bonuscode/", "/admin/races/wagerrace/", "/admin/accounts/user/",
                 "/admin/races/transformationlog/"):  # fmt: skip
        response = admin_client.get(path)
        assert response.status_code == 200, path
        seen[path] = response.content.decode()
    found = {path: PLACEHOLDER.search(html).group(0) for path, html in seen.items() if PLACEHOLDER.search(html)}
    assert found == {}
    assert all(len(html) > 500 for html in seen.values())  # real pages were read, not error stubs


def test_the_style_guide_shows_every_component_with_debug_on_and_is_a_404_in_production(client, settings):
    settings.DEBUG = False
    assert client.get("/styleguide/").status_code == 404
    settings.DEBUG = True
    html = client.get("/styleguide/").content.decode()
    for component in ('class="sg-tokens"', 'class="cta"', 'class="pill live"', 'class="tabs"', 'class="board',
                      'class="maintenance-banner"', 'class="card"', 'class="podium"', 'class="tiles"',
                      'class="avatar"', 'id="you-card"', 'class="join-strip'):  # fmt: skip
        assert component in html, component
