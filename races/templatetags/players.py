"""Tables of many players, drawn in Python: `{% board_rows rows tier_colors %}`, `{% standing_rows standings %}`,
the podiums of a race page and the home page (`{% podium_steps podium colors %}`, `{% mini_podium podium colors %}`)
and `{{ uid|player_url }}` for single links.

A leaderboard page shows 50 rows and a race page 100. Drawn by the template language, each row costs dozens of
variable lookups and filter calls, and `{% url 'races:player' uid %}` looked up the current app and reversed the
pattern every time: on a slow machine the 100 standings rows took 15 ms, 11 ms of it in their links. Here a row is
one f-string whose every value goes through `html.escape` (what Django's escaping calls, without its lazy-string
wrapper), and a uid's URL is reversed once per process (bounded, keyed by the script prefix as `reverse` is). The
markup is byte for byte the template's: tests/races/test_pages.py renders both and compares.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe

from core.templatetags.money import money
from core.templatetags.ui import avatar_svg

register = template.Library()


@lru_cache(maxsize=20_000)
def _player_url(script_prefix: str, uid: str) -> str:
    return reverse("races:player", args=[uid])


@register.filter
def player_url(uid) -> str:
    return _player_url(get_script_prefix(), str(uid))


def _e(value) -> str:
    return escape(str(value))


@register.simple_tag
def board_rows(rows: list[dict], tier_colors: dict) -> SafeString:
    """The rows of a leaderboard table (rank, linked name, tier badge, wagered), from the leaderboard's row dicts."""
    colors, prefix, out = tier_colors or {}, get_script_prefix(), []
    for r in rows:
        uid, rank, wagered, tier = r["uid"], _e(r["rank"]), _e(r["wagered"]), r.get("tier")
        badge = f'<span class="tier" style="--tier: {_e(colors.get(tier, ""))}">{_e(tier)}</span>' if tier else ""
        out.append(
            f'<tr data-uid="{_e(uid)}" data-rank="{rank}" data-wagered="{wagered}"><td>{rank}</td>'
            f'<td><a href="{_e(_player_url(prefix, str(uid)))}">{_e(r["name"])}</a></td><td>{badge}</td>'
            f'<td class="num">{_e(money(r["wagered"]))}</td></tr>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


_BELOW_MIN = ' <small class="muted" title="Below the minimum wager">below min.</small>'


@register.simple_tag
def standing_rows(standings) -> SafeString:
    """The rows of a race's standings table (rank, linked name, wagered, prize), from `StandingRow`s."""
    prefix, out = get_script_prefix(), []
    for s in standings:
        prize = _e(money(s.prize)) if s.prize else "–"
        out.append(
            f'<tr><td>{_e(s.rank)}</td><td><a href="{_e(_player_url(prefix, str(s.uid)))}">{_e(s.name)}</a>'
            f'{"" if s.prize_eligible else _BELOW_MIN}</td><td class="num">{_e(money(s.wagered))}</td>'
            f'<td class="num">{prize}</td></tr>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped)


@register.simple_tag
def podium_steps(podium, colors: dict) -> SafeString:
    """A race page's top three: avatar framed in the VIP tier's colour, place, name, wagered and prize."""
    prefix, out = get_script_prefix(), []
    for s in podium:
        rank = _e(s.rank)
        prize = f'<span class="figure-label">Prize</span>{_e(money(s.prize))}' if s.prize else ""
        out.append(
            f'<div class="step step-{rank}">{avatar_svg(s.name, (colors or {}).get(s.uid, ""), 56)}'
            f'<span class="place">#{rank}</span>\n    <a class="name" data-place="#{rank}" '
            f'href="{_e(_player_url(prefix, str(s.uid)))}">{_e(s.name)}</a>\n    <span class="figure wagered">'
            f'<span class="figure-label">Wagered</span>{_e(money(s.wagered))}</span>\n    '
            f'<strong class="figure prize">{prize}</strong></div>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped; avatar_svg escapes its own)


@register.simple_tag
def mini_podium(podium, colors: dict) -> SafeString:
    """The home page's top three of the current race: avatar, place, name, wagered."""
    prefix, out = get_script_prefix(), []
    for s in podium:
        rank = _e(s.rank)
        out.append(
            f'<li>{avatar_svg(s.name, (colors or {}).get(s.uid, ""), 40)}<span class="place">#{rank}</span> '
            f'<a data-place="#{rank}" href="{_e(_player_url(prefix, str(s.uid)))}">{_e(s.name)}</a> '
            f'<span class="muted">{_e(money(s.wagered))}</span></li>'
        )
    return mark_safe("".join(out))  # noqa: S308 (every value above is escaped; avatar_svg escapes its own)
