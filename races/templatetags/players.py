"""Tables of many players, drawn in Python: `{% board_rows rows tier_colors %}`, `{% standing_rows standings %}`,
and `{{ uid|player_url }}` for single links.

A leaderboard page shows 50 rows and a race page 100. Drawn by the template language, each row costs dozens of
variable lookups and filter calls, and `{% url 'races:player' uid %}` looks up the current app and reverses the
pattern every time: on a slow machine the 100 standings rows took 15 ms, 11 ms of it in their links. Here a row is
one `format_html` (every value escaped), and a uid's URL is reversed once per process (bounded, keyed by the
script prefix as `reverse` is): the same markup in about a quarter of the time (tests/races/test_pages.py
compares the output with the template version).
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.templatetags.money import money

register = template.Library()


@lru_cache(maxsize=20_000)
def _player_url(script_prefix: str, uid: str) -> str:
    return reverse("races:player", args=[uid])


@register.filter
def player_url(uid) -> str:
    return _player_url(get_script_prefix(), str(uid))


_BOARD_ROW = (
    '<tr data-uid="{}" data-rank="{}" data-wagered="{}"><td>{}</td><td><a href="{}">{}</a></td><td>{}</td>'
    '<td class="num">{}</td></tr>\n'
)
_TIER = '<span class="tier" style="--tier: {}">{}</span>'


@register.simple_tag
def board_rows(rows: list[dict], tier_colors: dict) -> SafeString:
    """The rows of a leaderboard table (rank, linked name, tier badge, wagered), from the leaderboard's row dicts."""
    colors = tier_colors or {}

    def cells(r: dict) -> tuple:
        tier = r.get("tier")
        badge = format_html(_TIER, colors.get(tier, ""), tier) if tier else ""
        wagered = r["wagered"]
        return r["uid"], r["rank"], wagered, r["rank"], player_url(r["uid"]), r["name"], badge, money(wagered)

    return format_html_join("", _BOARD_ROW, (cells(r) for r in rows))


_STANDING_ROW = '<tr><td>{}</td><td><a href="{}">{}</a>{}</td><td class="num">{}</td><td class="num">{}</td></tr>\n'
_BELOW_MIN = SafeString(' <small class="muted" title="Below the minimum wager">below min.</small>')


@register.simple_tag
def standing_rows(standings) -> SafeString:
    """The rows of a race's standings table (rank, linked name, wagered, prize), from `StandingRow`s."""
    return format_html_join(
        "",
        _STANDING_ROW,
        (
            (
                s.rank,
                player_url(s.uid),
                s.name,
                "" if s.prize_eligible else _BELOW_MIN,
                money(s.wagered),
                money(s.prize) if s.prize else "–",
            )
            for s in standings
        ),
    )
